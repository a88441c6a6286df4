#!/bin/bash
# Print one sha256 over the build inputs of the guest runtime: every regular
# file under toolchain/ and guest/c/ except *.md and toolchain/pack/ (the
# requirement packer, a Go package), in bytewise-sorted order of
# their repo-relative paths, as lines "<path> <sha256 of content>\n".
# guest/inputs_test.go computes the same value in Go (keep them in sync).
set -euo pipefail
cd "$(dirname "$0")/.."
find toolchain guest/c -path toolchain/pack -prune -o -type f ! -name '*.md' -print | LC_ALL=C sort |
  while IFS= read -r f; do
    printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"
  done | sha256sum | cut -d' ' -f1
