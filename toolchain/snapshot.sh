#!/bin/bash
# Pre-initialise python.wasm with wizer: runs the `wizer.initialize` export
# (C constructors + gears_init with a fixed hash seed) and snapshots the
# memory, so a new instance skips the ~25 ms CPython start.
#   snapshot.sh WGBUILD STAGE   (STAGE holds python.wasm and python313.zip;
#                                writes STAGE/python-snap.wasm)
# wizer comes from npm (@bytecodealliance/wizer-linux-x64@10.0.0, `npm pack`).
# The snapshot freezes wasi-libc's preopen table: the host must mount
# /usr/local/lib first and /usr/local/site second (empty if unused), as here.
set -euo pipefail
W=$1 ST=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WZ=$W/wizer
WIZER=$WZ/package/wizer
if [ ! -x "$WIZER" ]; then
  command -v npm >/dev/null || { echo "snapshot: npm is needed to fetch wizer" >&2; exit 1; }
  rm -rf "$WZ" && mkdir -p "$WZ"
  (cd "$WZ" && npm pack --silent @bytecodealliance/wizer-linux-x64@10.0.0 >/dev/null &&
   tar xzf bytecodealliance-wizer-linux-x64-10.0.0.tgz)
  [ -x "$WIZER" ] || { echo "snapshot: wizer binary not found in the npm package" >&2; exit 1; }
fi
clang-19 --target=wasm32 -nostdlib -O2 -Wl,--no-entry -o "$WZ/gears-stub.wasm" "$HERE/gears-stub.c"
rm -rf "$WZ/lib" "$WZ/site" && mkdir -p "$WZ/lib" "$WZ/site"
cp "$ST/python313.zip" "$WZ/lib/python313.zip"
# importlib caches the mtimes it stats during init: make them fixed
touch -d "@${SOURCE_DATE_EPOCH:-1735689600}" "$WZ/lib/python313.zip" "$WZ/lib" "$WZ/site"
"$WIZER" --allow-wasi --wasm-bulk-memory true \
  --mapdir /usr/local/lib::"$WZ/lib" --mapdir /usr/local/site::"$WZ/site" \
  --preload gears="$WZ/gears-stub.wasm" \
  -o "$WZ/python-snap-raw.wasm" "$ST/python.wasm"
wasm-opt -O2 "$WZ/python-snap-raw.wasm" -o "$ST/python-snap.wasm"
