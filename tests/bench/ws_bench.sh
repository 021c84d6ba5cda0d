#!/bin/sh
# WebSocket fan-out benchmark: builds a release sluice, starts it on ephemeral ports in a temp dir, and
# prints deliveries/s at 1, 100, 1000, 10000 subscribers, produce->push latency at a fixed rate, catch-up of
# one socket over stored records, and server RSS per idle connection. Usage:
#   tests/bench/ws_bench.sh [seconds-per-run (5)] [catch-up records (10000000)] [latency rate/s (auto: half)]
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build/ws-bench}
SECS=${1:-5}
CATCHUP=${2:-10000000}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j2 --target sluice ws_fanout >/dev/null
DIR=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
start() {
  rm -rf "$DIR/data"; : > "$DIR/log"
  "$BUILD/sluice" --data-dir "$DIR/data" --rest-port 0 --ws-port 0 --rest-bind 127.0.0.1 --durability async \
    --set ws.max.connections=20000 --set rest.max.connections=20000 2> "$DIR/log" &
  PID=$!
  for _ in $(seq 100); do grep -q "sluice listening" "$DIR/log" && break; sleep 0.1; done
  REST=$(sed -n 's/.*rest_port=\([0-9]*\).*/\1/p' "$DIR/log"); WS=$(sed -n 's/.*ws_port=\([0-9]*\).*/\1/p' "$DIR/log")
  CID=$(curl -s "http://127.0.0.1:$REST/v1/info" | sed 's/.*"cluster_id":"\([^"]*\)".*/\1/')
  curl -s -o /dev/null -X POST "http://127.0.0.1:$REST/v3/clusters/$CID/topics" -H 'Content-Type: application/json' \
    -d '{"topic_name":"bench","partitions_count":1}'
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
echo "# ws_bench: $(nproc) cores, ${SECS}s per run, generator on the same box"
MAX=0
for n in 1 100 1000 10000; do
  start; out=$("$BUILD/ws_fanout" fanout "$REST" "$WS" bench "$n" "$SECS"); stop; echo "$out"
  [ "$n" = 1000 ] && MAX=$(echo "$out" | sed "s/.*deliveries\/s=\([0-9]*\).*/\1/")
done
RATE=${3:-$((MAX / 1000 / 2))} # half of the per-subscriber maximum at 1000 subscribers
start; "$BUILD/ws_fanout" latency "$REST" "$WS" bench 1000 "$SECS" "$RATE"; stop
start; "$BUILD/ws_fanout" catchup "$REST" "$WS" bench "$CATCHUP"; stop
start; "$BUILD/ws_fanout" idle "$REST" "$WS" bench 10000 "$PID"; stop
