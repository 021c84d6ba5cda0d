#!/usr/bin/env bash
# rest_bench.sh: builds sluice and tests/bench/rest_load.c (Release), starts the real server on 127.0.0.1 and
# prints the REST API's produce, consume and latency figures next to issue 3's targets, all in one run.
#
#   tests/bench/rest_bench.sh
#   env: BENCH_DIR   where the servers keep their data (default build/bench-tmp; must be a real disk, not tmpfs)
#        RUNS        counted runs per figure (default 3; min/median/max are printed)
#        WARMUP      uncounted runs first, per case (default 1)
#        DUR         seconds of each counted window (default 2; every run also has 0.5 s of warm-up inside)
#        PARTITIONS  partitions of the benchmark topics (default 4)
#        CONSUME_N   records each consume run reads (default 3000000; the topic is filled with 1.2x that)
#        SLUICE_BIN, REST_LOAD  prebuilt binaries to run instead of building (e.g. to compare two builds)
#        KEEP_RESULTS=1  keeps the raw result lines in $BENCH_DIR/rest_bench.results.txt
#
# Cases (closed loop: each connection sends its next request when the previous response arrives):
#   produce  POST /topics/bench, application/vnd.kafka.json.v2+json, 100 B string values, keyless,
#            1/100/1000 records per request x 1/8/64 connections, durability sync (the server's default:
#            a produce is answered once fdatasync covers it). Plus 1000-record variants: binary (base64
#            values), keyed (1000 distinct keys: murmur2 partitioner), and a second server in durability async.
#   single   one-record requests: the best of the 1-record rows above and a 256-connection row.
#   consume  a topic is filled once (1000-record JSON batches); each run creates one consumer instance per
#            partition in a fresh group (auto.offset.reset earliest), subscribes them, and long-polls
#            GET .../records?timeout=1000&max_bytes=4194304 until CONSUME_N records have arrived. Also the
#            stateless GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=4194304, one connection per
#            partition, for DUR seconds.
#   latency  open loop (requests sent at fixed intervals, latency from the scheduled time) at half of the
#            measured maximum request rate: single-record requests and 1000-record requests, 64 connections.
# MB = 10^6 bytes of record values (100 B each). srv_cpu is the server's CPU use over the run, in cores
# (this machine has 2; the generator runs on the same machine and its own use is gen_cpu); us/rec is the
# server's CPU time per record, the figure that holds when other processes share the machine.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
DUR=${DUR:-2}
PARTITIONS=${PARTITIONS:-4}
CONSUME_N=${CONSUME_N:-3000000}
BUILD="$ROOT/build/release"
SLUICE=${SLUICE_BIN:-$BUILD/sluice}
LOAD=${REST_LOAD:-$BUILD/rest_load}
T_BEGIN=$(date +%s)

if [ -z "${SLUICE_BIN:-}" ] || [ -z "${REST_LOAD:-}" ]; then
    echo "== build (Release) =="
    mkdir -p "$BUILD"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
           cmake --build "$BUILD" -j2 --target sluice rest_load; } >"$BUILD/rest_bench.build.txt" 2>&1; then
        tail -30 "$BUILD/rest_bench.build.txt"
        echo "rest_bench.sh: build failed (full log: $BUILD/rest_bench.build.txt)" >&2
        exit 1
    fi
fi
echo "binaries: $SLUICE $LOAD"

BASE=${BENCH_DIR:-$ROOT/build/bench-tmp}
mkdir -p "$BASE"
WORK=$(mktemp -d "$BASE/rest_bench.XXXXXX")
RES="$WORK/results.txt"
: >"$RES"
SERVER_PIDS=()
cleanup() {
    for p in "${SERVER_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${SERVER_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
FSTYPE=$(df --output=fstype "$WORK" | tail -1 | tr -d " ")
case "$FSTYPE" in
tmpfs | ramfs | devtmpfs)
    echo "rest_bench.sh: $WORK is on $FSTYPE; set BENCH_DIR to a directory on a real disk" >&2
    exit 1
    ;;
esac
echo "== environment =="
echo "dir: $WORK   filesystem: $FSTYPE"
echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')   kernel: $(uname -r)"
LOAD_BEGIN=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average: $LOAD_BEGIN"
echo "runs per figure: $RUNS (+$WARMUP warm-up), ${DUR} s windows   partitions: $PARTITIONS"

# start_server NAME DURABILITY: starts sluice with its data in $WORK/NAME; sets PORT and PID.
start_server() {
    local name=$1 dura=$2 log="$WORK/$1.log"
    mkdir -p "$WORK/$name"
    : >"$log"
    "$SLUICE" --data-dir "$WORK/$name" --rest-bind 127.0.0.1 --rest-port 0 --ws-port 0 --durability "$dura" \
        2>"$log" &
    PID=$!
    SERVER_PIDS+=("$PID")
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's/.*sluice listening rest_port=\([0-9]*\) .*/\1/p' "$log" | head -1 || true)
        [ -n "$PORT" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$PORT" ]; then
        tail -20 "$log" >&2
        echo "rest_bench.sh: the server did not start (log above)" >&2
        exit 1
    fi
    echo "server $name: pid $PID, port $PORT, durability $dura"
}

# stop_server PID: SIGTERM (a clean stop), then wait for it.
stop_server() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local rest=()
    for p in "${SERVER_PIDS[@]}"; do
        [ "$p" != "$1" ] && rest+=("$p")
    done
    SERVER_PIDS=("${rest[@]+"${rest[@]}"}")
}

# create_topic PORT NAME: through v3, with PARTITIONS partitions.
create_topic() {
    local cid code
    cid=$(curl -sf "http://127.0.0.1:$1/v1/info" | sed -n 's/.*"cluster_id" *: *"\([^"]*\)".*/\1/p')
    code=$(curl -s -o "$WORK/create.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        "http://127.0.0.1:$1/v3/clusters/$cid/topics" \
        -d "{\"topic_name\":\"$2\",\"partitions_count\":$PARTITIONS,\"replication_factor\":1}")
    if [ "$code" != 201 ]; then
        cat "$WORK/create.out" >&2
        echo "rest_bench.sh: creating topic $2 answered $code" >&2
        exit 1
    fi
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# one LABEL ARGS...: one rest_load run against $PORT, its line labelled and given the server's CPU use.
one() {
    local label=$1 c0 c1 t0 t1 line
    shift
    c0=$(cpu_ticks "$PID")
    t0=$(date +%s%N)
    if ! line=$("$LOAD" --port "$PORT" --label "$label" "$@" 2>>"$WORK/load.err"); then
        tail -5 "$WORK/load.err" >&2
        echo "rest_bench.sh: rest_load failed: $*" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    c1=$(cpu_ticks "$PID")
    # srv_us_per_rec: server CPU per record (per request when no records), window rate against whole-run CPU.
    echo "$line" | awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v ns=$((t1 - t0)) '{
        for (i = 1; i <= NF; i++) { j = index($i, "="); f[substr($i, 1, j - 1)] = substr($i, j + 1) }
        cpu = (b - a) / hz / (ns / 1e9); r = f["rec_per_s"] > 0 ? f["rec_per_s"] : f["req_per_s"]
        printf "%s srv_cpu=%.2f srv_us_per_rec=%.2f\n", $0, cpu, (r > 0 ? cpu * 1e6 / r : 0) }' >>"$RES"
}

# case_runs LABEL ARGS...: WARMUP runs labelled warmup-LABEL (ignored), then RUNS runs.
case_runs() {
    local label=$1
    shift
    printf '  %-14s' "$label"
    for _ in $(seq "$WARMUP"); do
        one "warmup-$label" "$@"
        printf 'w'
    done
    for _ in $(seq "$RUNS"); do
        one "$label" "$@"
        printf '.'
    done
    echo
}

# stat3 LABEL KEY: "min median max" of KEY over the lines of LABEL.
stat3() {
    awk -v l="$1" -v k="$2" '
        { split("", f); for (i = 1; i <= NF; i++) { j = index($i, "="); f[substr($i, 1, j - 1)] = substr($i, j + 1) }
          if (f["label"] == l && (k in f)) print f[k] }' "$RES" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan nan nan"; else print v[1], v[int((NR + 1) / 2)], v[NR] }'
}
med() { stat3 "$1" "$2" | cut -d' ' -f2; }
sum() {
    awk -v l="$1" -v k="$2" '{ lab = ""; v = 0; for (i = 1; i <= NF; i++) { j = index($i, "="); if (substr($i, 1, j - 1) == "label") lab = substr($i, j + 1); if (substr($i, 1, j - 1) == k) v = substr($i, j + 1) }
        if (lab == l) s += v } END { print s + 0 }' "$RES"
}

fmt_rate() { # min med max -> "med [min..max]" in M or k
    awk -v a="$1" -v b="$2" -v c="$3" 'function f(x) { if (x == "nan") return "n/a"; if (x >= 1e6) return sprintf("%.2fM", x / 1e6); if (x >= 1e3) return sprintf("%.1fk", x / 1e3); return sprintf("%.0f", x) }
        BEGIN { printf "%s [%s..%s]", f(b), f(a), f(c) }'
}
fmt_num() {
    awk -v a="$1" -v b="$2" -v c="$3" -v p="${4:-1}" 'BEGIN { if (b == "nan") { printf "n/a"; exit } printf "%.*f [%.*f..%.*f]", p, b, p, a, p, c }'
}
lat3() { # LABEL -> "p50 / p99 / p99.9" medians, in ms
    awk -v a="$(med "$1" p50_us)" -v b="$(med "$1" p99_us)" -v c="$(med "$1" p999_us)" \
        'BEGIN { if (a == "nan") print "n/a"; else printf "%.2f / %.2f / %.2f", a / 1e3, b / 1e3, c / 1e3 }'
}

run_opts=(--duration "$DUR" --warmup 0.5)

start_server sync sync
SYNC_PID=$PID
SYNC_PORT=$PORT
create_topic "$PORT" bench
create_topic "$PORT" cbench

echo "== produce, durability sync (dots: counted runs) =="
for r in 1 100 1000; do
    for c in 1 8 64; do
        case_runs "p-$r-$c" --mode produce --topic bench --records $r --conns $c "${run_opts[@]}"
    done
done
case_runs "p-1-256" --mode single --topic bench --conns 256 "${run_opts[@]}"
case_runs "bin-1000-8" --mode produce --topic bench --records 1000 --conns 8 --binary "${run_opts[@]}"
case_runs "key-1000-8" --mode produce --topic bench --records 1000 --conns 8 --keys 1000 "${run_opts[@]}"

echo "== consume =="
printf '  %-14s' "fill"
fill=$(awk -v n="$CONSUME_N" 'BEGIN { printf "%d", n * 1.2 }')
"$LOAD" --port "$PORT" --mode produce --topic cbench --records 1000 --conns 8 --warmup 0 --duration 120 \
    --target-records "$fill" --label fill >>"$RES" 2>>"$WORK/load.err"
echo "$(sum fill records) records"
g=0
printf '  %-14s' "c-$PARTITIONS"
for i in $(seq $((WARMUP + RUNS))); do
    g=$((g + 1))
    label=c-$PARTITIONS
    [ "$i" -le "$WARMUP" ] && label=warmup-c-$PARTITIONS
    one "$label" --mode consume --topic cbench --group "bench-$g" --conns "$PARTITIONS" --target-records "$CONSUME_N" \
        --duration 60 --poll-timeout 1000 --max-bytes 4194304
    [ "$i" -le "$WARMUP" ] && printf 'w' || printf '.'
done
echo
case_runs "read-$PARTITIONS" --mode read --topic cbench --partitions "$PARTITIONS" --conns "$PARTITIONS" \
    --max-bytes 4194304 "${run_opts[@]}"

echo "== latency, open loop at half the measured maximum =="
best1=0
for c in 1 8 64 256; do
    best1=$(awk -v a="$best1" -v b="$(med "p-1-$c" req_per_s)" 'BEGIN { print (b != "nan" && b + 0 > a + 0) ? b : a }')
done
rate1=$(awk -v x="$best1" 'BEGIN { printf "%d", (x / 2 > 1 ? x / 2 : 1) }')
rate1000=$(awk -v x="$(med p-1000-64 req_per_s)" 'BEGIN { printf "%d", (x / 2 > 1 ? x / 2 : 1) }')
case_runs "lat-1" --mode produce --topic bench --records 1 --conns 64 --rate "$rate1" --duration 3 --warmup 0.5
case_runs "lat-1000" --mode produce --topic bench --records 1000 --conns 64 --rate "$rate1000" --duration 3 --warmup 0.5
stop_server "$SYNC_PID"

echo "== produce, durability async =="
start_server async async
create_topic "$PORT" bench
case_runs "a-1-64" --mode produce --topic bench --records 1 --conns 64 "${run_opts[@]}"
case_runs "a-1000-8" --mode produce --topic bench --records 1000 --conns 8 "${run_opts[@]}"
case_runs "a-1000-64" --mode produce --topic bench --records 1000 --conns 64 "${run_opts[@]}"
stop_server "$PID"

# ---- report ----
row() { # LABEL DESCRIPTION
    local a b c r m q e
    read -r a b c <<<"$(stat3 "$1" rec_per_s)"
    r=$(fmt_rate "$a" "$b" "$c")
    read -r a b c <<<"$(stat3 "$1" MB_per_s)"
    m=$(fmt_num "$a" "$b" "$c")
    read -r a b c <<<"$(stat3 "$1" req_per_s)"
    q=$(fmt_rate "$a" "$b" "$c")
    e=$(($(sum "$1" errors) + $(sum "$1" rec_errors)))
    printf '%-38s %-24s %-22s %-22s %-24s %-10s %-8s %s\n' "$2" "$r" "$m" "$q" "$(lat3 "$1")" \
        "$(med "$1" srv_cpu)/$(med "$1" gen_cpu)" "$(med "$1" srv_us_per_rec)" "$e"
}
echo
echo "== figures (median [min..max] of $RUNS runs; latency = medians of per-run percentiles, ms) =="
printf '%-38s %-24s %-22s %-22s %-24s %-10s %-8s %s\n' case "records/s" "MB/s" "requests/s" "p50 / p99 / p99.9 ms" \
    "cpu s/g" "us/rec" errs
for r in 1 100 1000; do
    for c in 1 8 64; do
        row "p-$r-$c" "sync json $r rec/req, $c conn"
    done
done
row p-1-256 "sync json 1 rec/req, 256 conn"
row bin-1000-8 "sync binary 1000 rec/req, 8 conn"
row key-1000-8 "sync json keyed 1000 rec/req, 8 conn"
row a-1-64 "async json 1 rec/req, 64 conn"
row a-1000-8 "async json 1000 rec/req, 8 conn"
row a-1000-64 "async json 1000 rec/req, 64 conn"
row "c-$PARTITIONS" "consume, $PARTITIONS long-poll consumers"
row "read-$PARTITIONS" "stateless read, $PARTITIONS conn"
row lat-1 "open loop $rate1 req/s, 1 rec/req"
row lat-1000 "open loop $rate1000 req/s, 1000 rec/req"
echo "(cpu s/g: server / generator CPU in cores, of $(nproc); us/rec: server CPU microseconds per record, per request"
echo " for 1-record rows; errs: non-2xx + broken connections + per-record errors)"
echo "load average: $LOAD_BEGIN at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (other processes share the machine)"
echo "open loop: missed (scheduled, never sent) $(($(sum lat-1 missed) + $(sum lat-1000 missed))), largest backlog $(stat3 lat-1 backlog_max | cut -d' ' -f3) / $(stat3 lat-1000 backlog_max | cut -d' ' -f3) requests"

echo
echo "== summary: targets (medians; [min..max]) =="
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "nan") print "n/a"; else print (x + 0 >= t + 0 ? "MET" : "MISSED") }'; }
best() { # KEY LABEL... -> "min med max" of the label with the best median
    local key=$1 bl= bm=-1 m
    shift
    for l in "$@"; do
        m=$(med "$l" "$key")
        if [ "$m" != nan ] && awk -v a="$m" -v b="$bm" 'BEGIN { exit !(a + 0 > b + 0) }'; then
            bm=$m
            bl=$l
        fi
    done
    echo "$bl $(stat3 "$bl" "$key")"
}
printf '%-56s %-28s %-14s %s\n' figure measured target verdict
read -r l a b c <<<"$(best rec_per_s p-1000-1 p-1000-8 p-1000-64)"
printf '%-56s %-28s %-14s %s\n' "produce 1000 x 100 B JSON records/s, sync ($l)" "$(fmt_rate "$a" "$b" "$c")" ">= 1M" \
    "$(verdict "$b" 1e6)"
read -r l a b c <<<"$(best req_per_s p-1-1 p-1-8 p-1-64 p-1-256)"
printf '%-56s %-28s %-14s %s\n' "single-record requests/s, sync ($l)" "$(fmt_rate "$a" "$b" "$c")" ">= 50k" \
    "$(verdict "$b" 5e4)"
read -r a b c <<<"$(stat3 a-1-64 req_per_s)"
printf '%-56s %-28s %-14s %s\n' "  (same, durability async, 64 conn)" "$(fmt_rate "$a" "$b" "$c")" "" ""
read -r a b c <<<"$(stat3 "c-$PARTITIONS" rec_per_s)"
printf '%-56s %-28s %-14s %s\n' "consume records/s, long-poll consumers" "$(fmt_rate "$a" "$b" "$c")" ">= 2M" \
    "$(verdict "$b" 2e6)"
echo
echo "whole run: $(($(date +%s) - T_BEGIN)) s"
if [ "${KEEP_RESULTS:-0}" = 1 ]; then
    cp "$RES" "$BASE/rest_bench.results.txt"
    echo "raw result lines: $BASE/rest_bench.results.txt"
fi
