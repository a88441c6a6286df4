#!/usr/bin/env bash
# Vendors the dashboard's charting library (uPlot) from npm into this
# directory, from the committed package.json + package-lock.json:
#   server/dashboard/vendor/update.sh
# npm ci checks the tarball against the lock's integrity; the copied dist
# files and their sha256 are recorded in uplot.txt, which
# TestDashboardVendored checks against the lock. The copies are committed,
# so building wasmgears never needs npm. To move to another version:
# edit package.json, run `npm install --package-lock-only --ignore-scripts`
# here, then this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
pkg="$work/node_modules/uplot"
version=$(node -p "require('$pkg/package.json').version")
integrity=$(node -p "require('$here/package-lock.json').packages['node_modules/uplot'].integrity")
cp "$pkg/dist/uPlot.iife.min.js" "$pkg/dist/uPlot.min.css" "$here/"
cp "$pkg/LICENSE" "$here/uPlot.LICENSE"
{
  echo "package uplot"
  echo "version $version"
  echo "integrity $integrity"
  (cd "$here" && sha256sum uPlot.iife.min.js uPlot.min.css uPlot.LICENSE | sed 's/^/sha256 /')
} > "$here/uplot.txt"
echo "vendored uplot $version into $here"
