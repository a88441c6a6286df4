#!/bin/bash
# Build the guest runtime from Debian source packages, reproducibly:
#   guest/runtime/python.wasm     CPython 3.13 for wasm32-wasi, reactor (no main),
#                                 with the _gears built-in module and the gears.yield hook
#   guest/runtime/python313.zip   pruned stdlib, unchecked-hash .pyc only
#   guest/runtime/VERSION, SHA256SUMS, INPUTS.sha256
#
# usage: toolchain/build.sh [--clean] [--snapshot]
#   --clean     start from an empty build dir (downloads are kept)
#   --snapshot  also build guest/runtime/python-snap.wasm (wizer pre-initialised;
#               needs npm to fetch @bytecodealliance/wizer)
# environment:
#   WGBUILD   build dir, outside the repo (default /tmp/wgbuild)
#   OUT       output dir (default <repo>/guest/runtime)
#   JOBS      make -j (default: nproc)
#   YIELD_EVERY  eval-breaker checks between gears.yield polls (default 1000)
#
# Needs (Debian bookworm): clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32
# wasi-libc binaryen dpkg-dev build-essential; apt access for the sources.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
W=${WGBUILD:-/tmp/wgbuild}
OUT=${OUT:-$REPO/guest/runtime}
JOBS=${JOBS:-$(nproc)}
CLEAN=0 SNAPSHOT=0
for a in "$@"; do
  case $a in
    --clean) CLEAN=1 ;;
    --snapshot) SNAPSHOT=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done
case $W in "$REPO"|"$REPO"/*) echo "WGBUILD must be outside the repo" >&2; exit 2 ;; esac

# ---- reproducibility ---------------------------------------------------------
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 ZERO_AR_DATE=1
export SOURCE_DATE_EPOCH=1735689600      # 2025-01-01T00:00:00Z, for __DATE__/__TIME__
umask 022
PYVER=3.13.5
MAP="-ffile-prefix-map=$W=/wgbuild"       # no build-machine paths in the objects

if [ $CLEAN = 1 ]; then
  find "$W" -mindepth 1 -maxdepth 1 ! -name dl -exec rm -rf {} + 2>/dev/null || true
fi
mkdir -p "$W" "$OUT"
W=$(cd "$W" && pwd)
LOG=$W/logs; mkdir -p "$LOG"
T0=$(date +%s)
step() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
# run a command quietly; on failure show the end of its log
quiet() { local log=$1; shift; "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; echo "FAILED, see $log" >&2; exit 1; }; }

for t in clang-19 wasm-ld-19 llvm-ar-19 llvm-ranlib-19 llvm-strip-19 wasm-opt; do
  command -v $t >/dev/null || { echo "missing tool: $t (see the header of this script)" >&2; exit 1; }
done

# ---- 1. sources --------------------------------------------------------------
step "sources"
"$HERE/fetch-sources.sh" "$W/dl" >"$LOG/fetch.log"
PYTAR=$(ls "$W"/dl/python3.13_$PYVER.orig.tar.xz)
ZTAR=$(ls "$W"/dl/zlib_*.orig.tar.* | head -1)

extract_python() {   # extract_python DIR  -> pristine tree in DIR/src
  rm -rf "$1/src" && mkdir -p "$1"
  tar -C "$1" -xJf "$PYTAR"
  mv "$1/Python-$PYVER" "$1/src"
}

# ---- 2. zlib for wasm32 --------------------------------------------------------
DEPS=$W/wasi-deps
if [ ! -e "$DEPS/lib/libz.a" ]; then
  step "zlib"
  rm -rf "$W/zlib" && mkdir -p "$W/zlib"
  tar -C "$W/zlib" --strip-components=1 -xf "$ZTAR"
  (cd "$W/zlib" &&
   quiet "$LOG/zlib.log" env CC="clang-19 --target=wasm32-wasi" AR=llvm-ar-19 RANLIB=llvm-ranlib-19 \
      CFLAGS="-O2 $MAP" CHOST=wasm32 ./configure --static --prefix="$DEPS" &&
   quiet "$LOG/zlib-make.log" make libz.a &&
   quiet "$LOG/zlib-install.log" make install)
fi

# ---- 3. native build python (same version: runs the build, compiles the .pyc) --
NAT=$W/native
if [ ! -x "$NAT/build/python" ]; then
  step "native python: configure + make (about 2 min)"
  extract_python "$NAT"
  mkdir -p "$NAT/build"
  (cd "$NAT/build" &&
   quiet "$LOG/native-configure.log" ../src/configure &&
   quiet "$LOG/native-make.log" make -j"$JOBS" all)
fi
BUILDPY=$NAT/build/python
"$BUILDPY" -c 'import sys; assert sys.version.startswith("'$PYVER'"), sys.version'

# ---- 4. wasm32-wasi python ---------------------------------------------------
WA=$W/wasm
SRC=$WA/src
if [ ! -e "$WA/build/Makefile" ]; then
  step "wasm python: sources + configure"
  extract_python "$WA"
  mkdir -p "$WA/build/Modules"
  cat > "$WA/build/Modules/Setup.local" <<'SETUP'
*static*
_gears _gearsmodule.c
SETUP
fi
# Our C sources go into the (private) source tree on every run; cp only when
# changed, so make rebuilds exactly what changed.
sync_file() { cmp -s "$1" "$2" || cp "$1" "$2"; }
# gears.yield hook, part 1: the shadow header turns CPython's Emscripten
# signal-poll hooks (eval breaker, PyErr_CheckSignals) into gears.yield calls.
sync_file "$REPO/guest/c/shadow/pycore_emscripten_signal.h" "$SRC/Include/internal/pycore_emscripten_signal.h"
sync_file "$REPO/guest/c/_gearsmodule.c" "$SRC/Modules/_gearsmodule.c"
# gears.yield hook, parts 2 and 3: RESUME_CHECK and PyIter_Next (idempotent)
"$BUILDPY" "$HERE/patch-cpython.py" "$SRC"

export CONFIG_SITE=$HERE/config.site WG_PYSRC=$SRC
export CC="clang-19 --target=wasm32-wasi" CPP="clang-19 --target=wasm32-wasi -E"
export CXX="clang++-19 --target=wasm32-wasi"
export AR=llvm-ar-19 RANLIB=llvm-ranlib-19 STRIP=llvm-strip-19
export OPT="-DNDEBUG -O2 -Wall $MAP -DGEARS_YIELD_EVERY=${YIELD_EVERY:-1000}"
export PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR= PKG_CONFIG_LIBDIR=$DEPS/lib/pkgconfig
export ZLIB_CFLAGS="-I$DEPS/include" ZLIB_LIBS="-L$DEPS/lib -lz"
# pymalloc is the allocator. mimalloc would only add size, and its constructor
# seeds itself from random_get, which made the wizer snapshot irreproducible.
# OPT is part of the id: configure bakes it into the Makefile, and make does
# not track flags, so a flag change (or YIELD_EVERY) must rebuild from scratch.
CONFIGURE_ID="--with-pymalloc --without-mimalloc OPT=$OPT"
if [ -e "$WA/build/.wg-configure" ] && [ "$(cat "$WA/build/.wg-configure")" != "$CONFIGURE_ID" ]; then
  rm -f "$WA/build/config.status" "$WA/build/config.cache"
  (cd "$WA/build" && make clean >/dev/null 2>&1 || true)
fi
if [ ! -e "$WA/build/config.status" ]; then
  (cd "$WA/build" &&
   quiet "$LOG/wasm-configure.log" ../src/configure -C \
      --host=wasm32-wasip1 --build="$(../src/config.guess)" \
      --with-build-python="$BUILDPY" \
      --with-pymalloc --without-mimalloc --disable-test-modules)
  echo "$CONFIGURE_ID" > "$WA/build/.wg-configure"
fi
step "wasm python: make"
# reactor: crt1-reactor.o, export _initialize, no main/_start.
# --wrap: the snapshot reads a fixed clock and file times (_gearsmodule.c)
WRAP="-Wl,--wrap=__wasi_clock_time_get -Wl,--wrap=__wasi_fd_filestat_get -Wl,--wrap=__wasi_path_filestat_get"
(cd "$WA/build" && quiet "$LOG/wasm-make.log" make -j"$JOBS" all LDFLAGS_NODIST="-mexec-model=reactor $WRAP")
grep -q '_gears' "$WA/build/Modules/config.c" || { echo "_gears is not a built-in module" >&2; exit 1; }

# ---- 5. shrink ------------------------------------------------------------------
ST=$W/stage; rm -rf "$ST"; mkdir -p "$ST"
step "strip + wasm-opt -O2"
llvm-strip-19 "$WA/build/python.wasm" -o "$ST/python-strip.wasm"
wasm-opt -O2 "$ST/python-strip.wasm" -o "$ST/python.wasm"

# ---- 6. stdlib zip ---------------------------------------------------------------
step "stdlib zip"
SYSCONF=$(ls "$WA"/build/build/lib.wasi-wasm32-3.13/_sysconfigdata__wasi_wasm32-wasi.py)
"$BUILDPY" -E "$HERE/mkstdlib.py" "$SRC/Lib" "$SYSCONF" "$ST/python313.zip" \
  --strip-prefix "$W=/wgbuild" >"$LOG/stdlib.log"
if grep -aq "$W" "$ST/python.wasm"; then echo "build path leaked into python.wasm" >&2; exit 1; fi

# ---- 7. optional wizer snapshot -------------------------------------------------
if [ $SNAPSHOT = 1 ]; then
  step "wizer snapshot"
  "$HERE/snapshot.sh" "$W" "$ST"
fi

# ---- 8. publish -------------------------------------------------------------------
step "publish to $OUT"
dv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
{
  echo "cpython $("$BUILDPY" -c 'import platform; print(platform.python_version())')"
  while read -r pkg ver; do echo "debian-source $pkg $ver"; done < "$W/dl/source-versions.txt"
  for p in clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc binaryen; do
    echo "debian-package $p $(dv $p)"
  done
  echo "build-flags OPT=-O2 --with-pymalloc --without-mimalloc reactor wasm-opt=-O2 yield-every=${YIELD_EVERY:-1000}"
} > "$ST/VERSION"
rm -f "$OUT/python-snap.wasm"
ARTS="python.wasm python313.zip"
[ -e "$ST/python-snap.wasm" ] && ARTS="$ARTS python-snap.wasm"
for f in $ARTS VERSION; do cp "$ST/$f" "$OUT/$f"; done
(cd "$OUT" && sha256sum $ARTS > SHA256SUMS)
"$HERE/inputs-hash.sh" > "$OUT/INPUTS.sha256"
ls -l "$OUT"
cat "$OUT/SHA256SUMS"
step "done"
