#!/bin/sh
# WebSocket benchmark (issue 4): builds a release sluice, starts a fresh server per run on ephemeral ports in
# a temp dir, and prints, each as the median of RUNS runs with [min-max]:
#   1. deliveries/s with 1, 100, 1000, 10000 subscribers (the producer flat out: the maximum);
#   2. produce->push latency p50/p99/p99.9 with 1 subscriber at an open-loop rate of half the 1-subscriber
#      maximum, in async and in sync durability (each at half of its own maximum);
#   3. the same with 1000 subscribers at half of their maximum (per-subscriber rate = max / 1000 / 2);
#   4. catch-up of one socket reading CATCHUP stored records (filled once, read RUNS times);
#   5. server RSS per idle connection (10000 connections).
# Every line also shows the CPU (% of one core) of the server, the generator's reader and producer threads,
# and of everything else on the machine ('other'): another benchmark running at the same time makes a figure
# suspect. Usage:
#   tests/bench/ws_bench.sh [seconds-per-run (5)] [catch-up records (10000000)]
# Environment: RUNS (3), BUILD (build/ws-bench), ONLY (a subset of: fanout latency sync1000 catchup idle).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build/ws-bench}
SECS=${1:-5}
CATCHUP=${2:-10000000}
RUNS=${RUNS:-3}
ONLY=${ONLY:-fanout latency latency1000 catchup idle}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null || exit 1
cmake --build "$BUILD" -j2 --target sluice ws_fanout >/dev/null || exit 1
DIR=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
start() { # start <durability>
  rm -rf "$DIR/data"; : > "$DIR/log"
  "$BUILD/sluice" --data-dir "$DIR/data" --rest-port 0 --ws-port 0 --rest-bind 127.0.0.1 --durability "$1" \
    --set ws.max.connections=20000 --set rest.max.connections=20000 2> "$DIR/log" &
  PID=$!
  export WS_SERVER_PID=$PID
  for _ in $(seq 100); do grep -q "sluice listening" "$DIR/log" && break; sleep 0.1; done
  REST=$(sed -n 's/.*rest_port=\([0-9]*\).*/\1/p' "$DIR/log"); WS=$(sed -n 's/.*ws_port=\([0-9]*\).*/\1/p' "$DIR/log")
  CID=$(curl -s "http://127.0.0.1:$REST/v1/info" | sed 's/.*"cluster_id":"\([^"]*\)".*/\1/')
  if ! curl -sf -o /dev/null -X POST "http://127.0.0.1:$REST/v3/clusters/$CID/topics" \
      -H 'Content-Type: application/json' -d '{"topic_name":"bench","partitions_count":1}'; then
    echo "# server did not start:"; tail -5 "$DIR/log"; exit 1
  fi
}
# Stops the server; one that has not exited after 15 s is reported (a hung service thread) and killed.
stop() {
  kill "$PID" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then echo "# SERVER DID NOT STOP within 15 s (killed)"; kill -9 "$PID"; fi
  wait "$PID" 2>/dev/null; PID=
}
# field <name> <line>: the number after "name="
field() { echo "$2" | sed -n "s|.* $1=\([0-9.]*\).*|\1|p"; }
# summary <label> <name> <lines-file>: median [min-max] of field <name> over the lines
summary() {
  sed -n "s|.* $2=\([0-9.]*\).*|\1|p" "$3" | sort -g | awk -v l="$1" -v n="$2" '{v[NR]=$1}
    END {printf "%-44s %-12s median %-10s [%s - %s] (%d runs)\n", l, n, v[int((NR+1)/2)], v[1], v[NR], NR}'
}
has() { case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }
echo "# ws_bench: $(nproc) cores, ${SECS}s per run, $RUNS runs, generator on the same box; $(uptime)"
# fanout <durability> <subscribers> -> lines in $DIR/fanout-<d>-<n>
fanout() {
  : > "$DIR/fanout-$1-$2"
  for _ in $(seq "$RUNS"); do
    start "$1"; "$BUILD/ws_fanout" fanout "$REST" "$WS" bench "$2" "$SECS" | tee -a "$DIR/fanout-$1-$2"; stop
  done
}
# latency <durability> <subscribers> <rate>
latency() {
  : > "$DIR/lat-$1-$2"
  for _ in $(seq "$RUNS"); do
    start "$1"; "$BUILD/ws_fanout" latency "$REST" "$WS" bench "$2" "$SECS" "$3" | tee -a "$DIR/lat-$1-$2"; stop
  done
}
median() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p" "$2" | sort -g | awk '{v[NR]=$1} END {printf "%d", v[int((NR+1)/2)]}'; }
if has fanout || has latency || has latency1000; then
  for n in 1 100 1000 10000; do
    { [ "$n" = 1 ] || [ "$n" = 1000 ] || has fanout; } && fanout async "$n"
  done
fi
if has latency; then
  fanout sync 1
  latency async 1 "$(( $(median deliveries/s "$DIR/fanout-async-1") / 2 ))"
  latency sync 1 "$(( $(median deliveries/s "$DIR/fanout-sync-1") / 2 ))"
fi
if has latency1000; then
  latency async 1000 "$(( $(median deliveries/s "$DIR/fanout-async-1000") / 1000 / 2 ))"
fi
if has catchup; then
  start async; "$BUILD/ws_fanout" catchup "$REST" "$WS" bench "$CATCHUP" "$RUNS" | tee "$DIR/catchup"; stop
fi
if has idle; then
  start async; "$BUILD/ws_fanout" idle "$REST" "$WS" bench 10000 "$PID" | tee "$DIR/idle"; stop
fi
echo "# summary (median [min - max]); $(uptime)"
for f in "$DIR"/fanout-*; do
  [ -e "$f" ] || continue
  n=${f##*-}; d=${f#*fanout-}; d=${d%-*}
  summary "deliveries/s, $n subscribers ($d)" deliveries/s "$f"
done
for f in "$DIR"/lat-*; do
  [ -e "$f" ] || continue
  n=${f##*-}; d=${f#*lat-}; d=${d%-*}
  for q in p50 p99 p99.9; do summary "latency ms, $n subscriber(s) at $(field rate "$(head -1 "$f")")/s ($d)" "$q" "$f"; done
done
[ -e "$DIR/catchup" ] && summary "catch-up records/s over $CATCHUP records" records/s "$DIR/catchup"
[ -e "$DIR/idle" ] && summary "RSS per idle connection (KB), 10000 connections" per_connection "$DIR/idle"
exit 0
