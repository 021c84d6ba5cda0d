#!/usr/bin/env bash
# A local three-node sluice cluster on this machine (README "Cluster"; `make cluster` runs it): nodes 1-3,
# all voters of one metadata quorum, data in ./data/n1..n3, logs in ./data/n1..n3.log, REST/WebSocket on
# 127.0.0.1 ports 8082-8084 / 8092-8094, quorum ports 9093/9193/9293, cluster RPC 9094/9194/9294. Runs in the
# foreground; Ctrl-C (or SIGTERM) stops the three cleanly. The cluster id is made once and kept in
# ./data/cluster.id, so a restart finds its data dirs.
#
#   tests/cluster/local.sh [path/to/sluice]      (default build/release/sluice)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/build/release/sluice}
DATA=${DATA:-$ROOT/data}
mkdir -p "$DATA"
[ -x "$BIN" ] || { echo "local.sh: no sluice binary at $BIN (make build-release)" >&2; exit 1; }
if [ ! -s "$DATA/cluster.id" ]; then # 22 URL-safe base64 characters, like Kafka's cluster ids
  head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22 > "$DATA/cluster.id"
fi
CID=$(cat "$DATA/cluster.id")
VOTERS="1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293"
pids=()
stop() {
  trap - INT TERM
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 0
}
trap stop INT TERM
for i in 1 2 3; do
  "$BIN" --data-dir "$DATA/n$i" --node-id "$i" --rest-bind 127.0.0.1 \
    --rest-port $((8081 + i)) --ws-port $((8091 + i)) \
    --set "controller.quorum.voters=$VOTERS" --set "cluster.port=$((9 * 1000 + (i - 1) * 100 + 94))" \
    --set "cluster.id=$CID" 2>"$DATA/n$i.log" &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do grep -q "sluice listening" "$DATA/n$i.log" && break; sleep 0.1; done
  grep -q "sluice listening" "$DATA/n$i.log" || { echo "node $i did not start:"; tail -5 "$DATA/n$i.log"; stop; }
done
echo "cluster $CID: 3 nodes (logs in $DATA/n1..n3.log)"
for i in 1 2 3; do
  echo "  node $i: REST http://127.0.0.1:$((8081 + i))  WebSocket ws://127.0.0.1:$((8091 + i))"
done
echo "  curl -s http://127.0.0.1:8082/v3/clusters/$CID/brokers    (Ctrl-C stops the cluster)"
wait -n "${pids[@]}" || true
echo "a node exited; see its log"
stop
