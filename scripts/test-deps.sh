#!/usr/bin/env bash
# Installs the Debian packages the tests use, if missing: redis-tools
# (redis-cli for the integration tests), chromium (the dashboard's browser
# test), prometheus and prometheus-redis-exporter (the exposition tests).
# Needs root or sudo.
set -euo pipefail
need=()
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v chromium >/dev/null || need+=(chromium)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-redis-exporter >/dev/null || need+=(prometheus-redis-exporter)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}"
