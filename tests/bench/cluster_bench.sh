#!/usr/bin/env bash
# Cluster figures (issue 14), on this machine, nothing else running:
#   1. failover: a 3-node cluster (tests/cluster/local.sh's layout on free ports), the quorum leader killed with
#      SIGKILL; the time until both survivors report the same new leader in GET /v1/info (polled every 10 ms).
#      RUNS runs (default 20), a fresh cluster each; p50 / p90 / max.
#   2. controlled shutdown: the same, with SIGTERM (the leader hands its leadership over before exiting).
#   3. memory: the resident set of each node of an idle 3-node cluster, 5 s after start (VmRSS).
# Usage: tests/bench/cluster_bench.sh [path/to/sluice]   (default: builds build/release/sluice)
# Env: RUNS (20), ELECTION: the nodes' default election timeout is 1000 ms (libraft randomizes 1-2x).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-}
if [ -z "$BIN" ]; then
  cmake -S "$ROOT" -B "$ROOT/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$ROOT/build/release" -j2 --target sluice >/dev/null
  BIN=$ROOT/build/release/sluice
fi
RUNS=${RUNS:-20}
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_cluster() { # start_cluster <dir>: sets pids[] and rest[]
  local d=$1 q=() i
  for i in 1 2 3; do q[$i]=$(free_port); done
  local voters="1@127.0.0.1:${q[1]},2@127.0.0.1:${q[2]},3@127.0.0.1:${q[3]}"
  pids=(); rest=()
  for i in 1 2 3; do
    "$BIN" --data-dir "$d/n$i" --node-id "$i" --rest-bind 127.0.0.1 --rest-port 0 --ws-port 0 \
      --set "controller.quorum.voters=$voters" --set cluster.port=0 --set cluster.id=SluiceClusterBench0001 \
      2>"$d/n$i.log" &
    pids[$i]=$!
    disown "$!" # killed on purpose: no "Killed" job report
  done
  for i in 1 2 3; do
    for _ in $(seq 200); do grep -q "sluice listening" "$d/n$i.log" && break; sleep 0.05; done
    rest[$i]=$(sed -n 's/.*rest_port=\([0-9]*\).*/\1/p' "$d/n$i.log")
  done
}

leader_of() { # leader_of <rest port>: the quorum leader id node i reports, or empty
  curl -s -m 1 "http://127.0.0.1:$1/v1/info" | sed -n 's/.*"leader_id":\([0-9]*\).*/\1/p'
}

wait_leader() { # wait_leader <skip node>: prints the leader id once the live nodes agree
  local i l agree
  for _ in $(seq 3000); do
    agree=""
    for i in 1 2 3; do
      [ "$i" = "$1" ] && continue
      l=$(leader_of "${rest[$i]}")
      [ -n "$l" ] && [ "$l" != "$1" ] || { agree=""; break; }
      if [ -z "$agree" ]; then agree=$l; elif [ "$agree" != "$l" ]; then agree=""; break; fi
    done
    [ -n "$agree" ] && { echo "$agree"; return; }
    sleep 0.01
  done
  echo "none"
}

failover() { # failover <signal>: prints ms from the signal to the survivors' agreement
  local d t0 t1 l n
  d=$(mktemp -d "$WORK/run.XXXX")
  start_cluster "$d"
  l=$(wait_leader 0)
  t0=$(now_ms)
  kill "-$1" "${pids[$l]}"
  n=$(wait_leader "$l")
  t1=$(now_ms)
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  sleep 0.2
  [ "$n" = none ] && echo "-1" || echo $((t1 - t0))
}

stats() { sort -n | awk '{v[NR]=$1} END {printf "p50 %d ms, p90 %d ms, max %d ms (%d runs)\n", v[int((NR+1)/2)], v[int(NR*0.9+0.5)], v[NR], NR}'; }

echo "== failover after kill -9 of the quorum leader (ms until both survivors name the new leader)"
for r in $(seq "$RUNS"); do failover KILL; done | tee "$WORK/kill.txt" | tr '\n' ' '; echo
stats <"$WORK/kill.txt"
echo "== the same after SIGTERM (controlled shutdown: the leader hands over)"
for r in $(seq "$RUNS"); do failover TERM; done | tee "$WORK/term.txt" | tr '\n' ' '; echo
stats <"$WORK/term.txt"
echo "== memory of an idle 3-node cluster, 5 s after start"
d=$(mktemp -d "$WORK/mem.XXXX")
start_cluster "$d"
sleep 5
tot=0
for i in 1 2 3; do
  kb=$(awk '/VmRSS/ {print $2}' "/proc/${pids[$i]}/status")
  tot=$((tot + kb))
  echo "node $i: ${kb} KiB resident"
done
echo "total: $((tot / 1024)) MiB"
