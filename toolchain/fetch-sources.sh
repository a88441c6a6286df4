#!/bin/bash
# Download the Debian source packages the interpreter is built from, into $1.
#
# python3.13 is not in bookworm, so a deb-src entry for trixie is derived from
# the machine's own apt configuration (same Debian mirror URI and keyring) and
# used through a private apt state directory: the system's apt setup is left
# untouched. Only the upstream (orig) tarballs are needed; Debian's patches are
# not applied.
#
#   PY_SUITE   suite to take python3.13/zlib from (default: trixie)
set -euo pipefail
DL=${1:?usage: fetch-sources.sh DOWNLOAD_DIR}
SUITE=${PY_SUITE:-trixie}
mkdir -p "$DL"
DL=$(cd "$DL" && pwd)

have() { ls "$DL"/$1 >/dev/null 2>&1; }
if have 'python3.13_*.orig.tar.xz' && have 'zlib_*.orig.tar.*'; then
  echo "fetch-sources: already present in $DL"
  exit 0
fi

# --- find the Debian archive URI and keyring of this machine ---------------
uri="" keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  # deb822: take the first stanza whose Suites has a plain release name
  # (not -security) and whose URI ends in /debian.
  read -r uri keyring < <(awk '
    BEGIN { RS=""; FS="\n" }
    {
      u=""; s=""; k=""; en=1
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/)      { u=$i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*$/, "", u) }
        if ($i ~ /^Suites:/)    { s=$i }
        if ($i ~ /^Signed-By:/) { k=$i; sub(/^Signed-By:[ \t]*/, "", k) }
        if ($i ~ /^Enabled:[ \t]*no/) { en=0 }
      }
      if (en && u ~ /\/debian\/?$/ && s !~ /security/) { print u, k; exit }
    }' "$f") || true
  [ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -e /etc/apt/sources.list ]; then
  # one-line format: deb [opts] URI suite components...
  uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { if ($i ~ /\/debian\/?$/) { print $i; exit } } }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "fetch-sources: no Debian archive URI found in the apt sources" >&2; exit 1; }
[ -n "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# --- private apt state with only the deb-src entry --------------------------
A=$DL/.apt
rm -rf "$A"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
cat > "$A/wg-src.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: $SUITE
Components: main
Signed-By: $keyring
SRC
APT=(-o "Dir::Etc::SourceList=$A/wg-src.sources" -o "Dir::Etc::SourceParts=/nonexistent"
     -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "Debug::NoLocking=1")
echo "fetch-sources: deb-src $SUITE from $uri"
apt-get "${APT[@]}" update >"$A/update.log" 2>&1 || { cat "$A/update.log" >&2; exit 1; }
cd "$DL"
for pkg in python3.13 zlib; do
  # Some mirrors serve the orig tarball but not every other file of the
  # source package; the orig tarball is all we use, so accept that.
  apt-get "${APT[@]}" source --download-only "$pkg" >"$A/source-$pkg.log" 2>&1 || true
  have "${pkg}_*.orig.tar.*" || { cat "$A/source-$pkg.log" >&2; echo "fetch-sources: $pkg orig tarball missing" >&2; exit 1; }
done
# record the exact source package versions apt chose (from its download log)
for pkg in python3.13 zlib; do
  v=$(sed -n "s/^Get:[0-9]* .* $SUITE\/main $pkg \([^ ]*\) (tar).*/\1/p" "$A/source-$pkg.log" | head -1)
  echo "$pkg ${v:-unknown}"
done > "$DL/source-versions.txt"
ls -la "$DL"
