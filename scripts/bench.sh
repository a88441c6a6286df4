#!/usr/bin/env bash
# Side-by-side benchmark (make bench; not part of make test): Debian's
# redis-server and wasmgears on loopback, same redis-benchmark runs against
# each, printed as a table of requests/s, ratio and p50/p99 latency.
#
#   N=200000 C=50 P=16 scripts/bench.sh
#
# redis-server runs with --save '' --appendonly no (memory only);
# wasmgears runs on a fresh temp --dir with its default appendfsync everysec
# (Pebble WAL, synced once a second). A command wasmgears does not
# implement yet is reported as n/a. Both servers and redis-benchmark share
# the machine's cores: read the ratios, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
C=${C:-50}
P=${P:-16}
EXTRA=${BENCH_EXTRA:-} # extra redis-benchmark flags, e.g. "-r 100000 -d 64"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v redis-cli >/dev/null || need+=(redis-tools)
/usr/bin/python3 -c "import redis" 2>/dev/null || need+=(python3-redis) # benchgears: native KeysReader comparison
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}"
fi

GO=${GO:-go}
mkdir -p bin
$GO build -o bin/wasmgears ./cmd/wasmgears

tmp=$(mktemp -d -t wasmgears-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# free_port prints a loopback TCP port nobody listens on.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( (RANDOM % 30000) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "no free port found" >&2
  exit 1
}

# wait_ping polls a server with PING until it answers (max 30 s).
wait_ping() {
  local port=$1 name=$2
  for _ in $(seq 1 300); do
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ]; then return; fi
    sleep 0.1
  done
  echo "$name on port $port did not answer PING" >&2
  exit 1
}

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$tmp" --logfile "$tmp/redis.log" --daemonize no &
pids+=($!)
WPORT=$(free_port)
while [ "$WPORT" = "$RPORT" ]; do WPORT=$(free_port); done
bin/wasmgears --port "$WPORT" --bind 127.0.0.1 --dir "$tmp/wasmgears-data" \
  --metrics-addr "" >"$tmp/wasmgears.log" 2>&1 &
pids+=($!)
wait_ping "$RPORT" redis-server
wait_ping "$WPORT" wasmgears
# A fresh --dir has no wasm compilation cache: wasmgears compiles the gears
# guest in the background for a few CPU-seconds after it answers PING.
# Wait for that, or it competes with the first rows for the shared cores.
for _ in $(seq 1 600); do
  if grep -q "gears engine" "$tmp/wasmgears.log"; then break; fi
  sleep 0.1
done
# then the interpreter pool fills and GOMAXPROCS drops to io-threads a
# second after the last guest work (server/procs.go): measure the steady state
sleep 2

rversion=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')
echo "redis-server $rversion on :$RPORT (memory only) vs wasmgears $(bin/wasmgears --version | awk '{print $2}') on :$WPORT (appendfsync everysec)"
echo "redis-benchmark -n $N -c $C $EXTRA; $(nproc) CPUs shared by both servers and the client"
echo

# bench PORT ARGS... prints "rps p50 p99" or "n/a".
bench() {
  local port=$1
  shift
  local out
  # shellcheck disable=SC2086
  if ! out=$(redis-benchmark -h 127.0.0.1 -p "$port" -q --csv -n "$N" -c "$C" $EXTRA "$@" 2>/dev/null); then
    echo "n/a"
    return
  fi
  # CSV: "test","rps","avg","min","p50","p95","p99","max"
  local row
  row=$(printf '%s\n' "$out" | sed -n '2p' | tr -d '"')
  if [ -z "$row" ]; then
    echo "n/a"
    return
  fi
  echo "$row" | awk -F, '{printf "%s %s %s\n", $2, $5, $7}'
}

printf '%-12s %12s %12s %7s   %-15s %-15s\n' test "redis rps" "wasmgears rps" ratio "redis p50/p99" "wasmg p50/p99"
printf '%-12s %12s %12s %7s   %-15s %-15s\n' ------------ ------------ ------------ ------- --------------- ---------------

row() {
  local name=$1
  shift
  local r w
  r=$(bench "$RPORT" "$@")
  w=$(bench "$WPORT" "$@")
  # shellcheck disable=SC2086
  set -- $r
  local rr=${1:-n/a} rp50=${2:-} rp99=${3:-}
  # shellcheck disable=SC2086
  set -- $w
  local wr=${1:-n/a} wp50=${2:-} wp99=${3:-}
  local ratio="n/a" rl="n/a" wl="n/a"
  if [ "$rr" != "n/a" ]; then rl="$rp50/$rp99 ms"; fi
  if [ "$wr" != "n/a" ]; then wl="$wp50/$wp99 ms"; fi
  if [ "$rr" != "n/a" ] && [ "$wr" != "n/a" ]; then
    ratio=$(awk -v a="$wr" -v b="$rr" 'BEGIN { printf "%.2f", a / b }')
  fi
  printf '%-12s %12s %12s %7s   %-15s %-15s\n' "$name" "$rr" "$wr" "$ratio" "$rl" "$wl"
}

for t in SET GET INCR LPUSH LPOP SADD HSET ZADD; do
  row "$t" -t "$(echo "$t" | tr 'A-Z' 'a-z')"
done
row XADD xadd bench:stream '*' field value
row MSET -t mset
row "SET -P $P" -t set -P "$P"
row "GET -P $P" -t get -P "$P"
echo
echo "ratio = wasmgears rps / redis rps (higher is better for wasmgears)"
