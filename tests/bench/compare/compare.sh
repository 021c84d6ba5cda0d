#!/usr/bin/env bash
# compare.sh: sluice side by side with Redis Streams and NATS JetStream on this machine, in one run (issue 5).
#
#   tests/bench/compare/compare.sh                     # full run: under 10 minutes on the 2-core dev machine
#   RUNS=1 WARMUP=0 SCALE=0.02 SECS=1 LAT_SECS=2 tests/bench/compare/compare.sh   # smoke run, about a minute
#
# On a fresh Debian 12 machine it installs what is missing (apt-get, non-interactive, sudo when not root):
# redis-server, nats-server, libhiredis-dev, libnats-dev, curl and sluice's build dependencies. It builds sluice
# (Release, into build/release) with its generators (rest_load, ws_fanout) and the peers' generators in this folder
# (redis_load.c with hiredis, nats_load.c with the NATS C client, compiled with cc into build/release/compare).
# Every server it starts is its own process on 127.0.0.1 (free high ports), with its data in a fresh directory
# under BENCH_DIR, and is stopped after each run (and on exit: trap). A system service the redis-server package
# may have started is never used.
#
# Systems (columns), one fresh server per run:
#   sluice sync      --durability sync: a produce is acknowledged after an fdatasync covers it (group commit)
#   sluice async     --durability async: acknowledged once in the page cache; fsync every flush.ms (1000 ms)
#   Redis always     AOF, appendfsync always: replies after the AOF write + fsync of its event-loop iteration
#   Redis everysec   AOF, appendfsync everysec: fsync once a second in a background thread
#                    (both: RDB snapshots off, AOF rewrite off, so no fork lands inside a measurement)
#   NATS file        JetStream, file storage, 1 replica: acknowledged once stored (written to the OS); the file
#                    store is fsynced only every 2 minutes (nats-server 2.9 default; sync_interval arrived in 2.10)
# Ratios pair like with like: sluice sync / Redis always, sluice async / Redis everysec, sluice async / NATS.
#
# Workloads (rows; N = 5,000,000 x SCALE records):
#   1 ingest N records of 100 B values, batched. sluice: rest_load produce, 1000-record JSON batches
#     (POST /topics/t) over CONNS connections; Redis: XADD pipelined PIPE deep over CONNS connections; NATS:
#     js_PublishAsync over CONNS connections, WINDOW unacknowledged at most per connection.
#   2 the same with 1 KiB values.
#   3 read back the N records of row 1 from the start, one consumer. sluice: REST long poll (consumer
#     instance, GET .../records) and WebSocket (ws_fanout catchup: it fills a topic of its own with N records,
#     ~90 B JSON values, then one socket reads it from earliest); Redis: XREAD COUNT 1000; NATS: ordered consumer.
#   4 fan-out: a stream fed at FAN_RATE msg/s (100 B, open loop) to FAN_SUBS subscribers, each on its own
#     connection. sluice: WebSocket; Redis: XREAD BLOCK per client; NATS: one push consumer each.
#     Deliveries/s and p99 delivery latency (from the scheduled send time).
#   5 produce->deliver latency, one subscriber, LAT_RATE msg/s (100 B) for LAT_SECS s: p50, p99, p99.9.
#     ws_fanout sends batches of max(1, min(100, rate / 1000)) records per REST request, so below 2000/s every
#     system sends one record per produce call. Each request goes out at its scheduled time on an idle
#     keep-alive connection of a pool (up to 16, opened as needed), so a slow reply delays only its own record,
#     as with redis_load's pipelined XADDs and nats_load's asynchronous publishes (PRODUCER_CONNS=1 in the
#     environment restores the former single connection, where each request waited for the previous reply).
# Rows 4 and 5 run WARM s (not counted) + SECS (LAT_SECS) s (ws_fanout: its own 1 s warm-up). Every generator
# is open loop: records are sent at scheduled times and latency runs from the scheduled time, so a producer or
# server that falls behind counts as latency (no coordinated omission). ws_fanout samples the latency of every
# (subscribers / 100)-th delivered record when there are more than 100 subscribers.
#
# env: RUNS (3) counted runs per system; WARMUP (1) uncounted short runs per system first (N/10, 1 s phases)
#      SCALE (0.1) multiplies N: SCALE=1 is the issue's 5 M records per ingest row and took 14.4 minutes on
#      the 2-core dev machine (the peers ingest 94-760 k records/s: about 2.5 minutes of their ingest alone
#      per run); 0.1 keeps the whole run under 10 minutes
#      SECS (5, whole seconds) counted seconds of row 4; WARM (1)
#      CONNS (4) PIPE (1000) WINDOW (10000) FAN_RATE (1000) FAN_SUBS (1000) LAT_RATE (1000) LAT_SECS (10)
#      WS_READ_TIMEOUT (60) bound on one WebSocket read-back run (a system whose run fails is not retried)
#      SYSTEMS ("sluice-sync sluice-async redis-always redis-everysec nats-file") the columns to run
#      BENCH_DIR (build/bench-tmp; a real disk, not tmpfs)  BUILD_DIR (build/release)
#      SKIP_INSTALL=1 SKIP_BUILD=1  KEEP_RESULTS=1 (raw result lines kept in BENCH_DIR/compare.results.txt)
#      DRAIN (10) seconds fan-out subscribers get after the last send to catch up (what is still undelivered
#      then shows in the "delivered" row)
#      GEN_TIMEOUT (60 + 300 x SCALE) seconds after which one generator run is killed and counted as failed
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/tests/bench/compare"
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
SCALE=${SCALE:-0.1}
SECS=${SECS:-5}
WARM=${WARM:-1}
CONNS=${CONNS:-4}
PIPE=${PIPE:-1000}
WINDOW=${WINDOW:-10000}
FAN_RATE=${FAN_RATE:-1000}
FAN_SUBS=${FAN_SUBS:-1000}
LAT_RATE=${LAT_RATE:-1000}
LAT_SECS=${LAT_SECS:-10}
WS_READ_TIMEOUT=${WS_READ_TIMEOUT:-60}
N=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 5000000 * s }')
GEN_TIMEOUT=${GEN_TIMEOUT:-$(awk -v s="$SCALE" 'BEGIN { printf "%d", 60 + 300 * s }')}
DRAIN=${DRAIN:-10}
SYSTEMS=${SYSTEMS:-"sluice-sync sluice-async redis-always redis-everysec nats-file"}
BUILD=${BUILD_DIR:-$ROOT/build/release}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
T_BEGIN=$(date +%s)

# ---------------------------------------------------------------- install
apt_missing() {
    local p miss=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || miss+=("$p")
    done
    echo "${miss[*]}"
}
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    missing=$(apt_missing build-essential cmake pkg-config curl libmicrohttpd-dev libjansson-dev libisal-dev \
        libwebsockets-dev redis-server nats-server libhiredis-dev libnats-dev)
    if [ -n "$missing" ]; then
        echo "== installing: $missing =="
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -qq
        # shellcheck disable=SC2086
        $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

# ---------------------------------------------------------------- build
CMP_BIN="$BUILD/compare"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== build (Release): $BUILD =="
    mkdir -p "$BUILD" "$CMP_BIN"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
           cmake --build "$BUILD" -j2; } >"$BUILD/compare.build.txt" 2>&1; then
        tail -30 "$BUILD/compare.build.txt"
        echo "compare.sh: sluice build failed (full log: $BUILD/compare.build.txt)" >&2
        exit 1
    fi
    for g in redis_load:hiredis nats_load:libnats; do
        if ! cc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -o "$CMP_BIN/${g%%:*}" "$HERE/${g%%:*}.c" \
            $(pkg-config --cflags --libs "${g##*:}") -lpthread >>"$BUILD/compare.build.txt" 2>&1; then
            tail -30 "$BUILD/compare.build.txt"
            echo "compare.sh: building ${g%%:*} failed" >&2
            exit 1
        fi
    done
fi
SLUICE="$BUILD/sluice"
REST_LOAD="$BUILD/rest_load"
WS_FANOUT="$BUILD/ws_fanout"
REDIS_LOAD="$CMP_BIN/redis_load"
NATS_LOAD="$CMP_BIN/nats_load"
for b in "$SLUICE" "$REDIS_LOAD" "$NATS_LOAD"; do
    [ -x "$b" ] || { echo "compare.sh: $b is missing" >&2; exit 1; }
done
T_BUILT=$(date +%s)

# ---------------------------------------------------------------- work dir, cleanup
BASE=${BENCH_DIR:-$ROOT/build/bench-tmp}
mkdir -p "$BASE"
BASE=$(cd "$BASE" && pwd)
WORK=$(mktemp -d "$BASE/compare.XXXXXX")
RES="$WORK/results.txt"
ERRS="$WORK/stderr.txt"
: >"$RES"
: >"$ERRS"
FSTYPE=$(df --output=fstype "$WORK" | tail -1 | tr -d " ")
case "$FSTYPE" in
tmpfs | ramfs | devtmpfs)
    echo "compare.sh: $WORK is on $FSTYPE; set BENCH_DIR to a directory on a real disk" >&2
    exit 1
    ;;
esac
SRV_PID=""
SRV_WRAP=""
SRV_DIR=""
SRV_CFG=""
cleanup() {
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SRV_PID" 2>/dev/null || true
    fi
    if [ "${KEEP_RESULTS:-0}" = 1 ] && [ -s "$RES" ]; then
        cp "$RES" "$BASE/compare.results.txt"
        cp "$ERRS" "$BASE/compare.stderr.txt"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- servers
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral range (32768-)
        port_free "$p" && port_free $((p + 1)) && { echo "$p"; return; }
    done
    echo "compare.sh: no free port" >&2
    return 1
}
wait_port() { # PORT SECS
    local i
    for i in $(seq $(($2 * 20))); do
        port_free "$1" || return 0
        kill -0 "$SRV_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# launch DIR CMD...: starts CMD in the background (stdout and stderr to DIR/server.out) through a subshell that
# records its exit status in DIR/exit (so a crash is reported, not printed over the progress line); SRV_PID.
launch() {
    local dir=$1
    shift
    rm -f "$dir/pid" "$dir/exit"
    ( "$@" >"$dir/server.out" 2>&1 &
      echo $! >"$dir/pid"
      wait $!
      echo $? >"$dir/exit" ) 2>/dev/null &
    SRV_WRAP=$!
    for _ in $(seq 100); do [ -s "$dir/pid" ] && break; sleep 0.02; done
    SRV_PID=$(cat "$dir/pid")
    SRV_DIR=$dir
}
stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SRV_PID" 2>/dev/null || true
    wait "$SRV_WRAP" 2>/dev/null || true
    local st
    st=$(cat "$SRV_DIR/exit" 2>/dev/null || echo '?')
    case "$st" in
    0 | 143) ;;
    1) [ "${SRV_CFG%%-*}" = nats ] || echo "[$SRV_CFG] server exited with status 1 on SIGTERM" >>"$ERRS" ;;
    *) echo "[$SRV_CFG] server exited with status $st on SIGTERM$([ "$st" = 139 ] && echo ' (SIGSEGV)')" >>"$ERRS" ;;
    esac
    SRV_PID=""
}

# start_server CFG DIR: starts one fresh server; sets PORT (and WS_PORT, CID for sluice). 0 or 1.
start_server() {
    local cfg=$1 dir=$2
    mkdir -p "$dir"
    SRV_CFG=$cfg
    case "$cfg" in
    sluice-*)
        launch "$dir" "$SLUICE" --data-dir "$dir/data" --rest-bind 127.0.0.1 --rest-port 0 --ws-port 0 \
            --durability "${cfg#sluice-}" --log-level info
        ln -sf server.out "$dir/server.log"
        PORT=""
        for _ in $(seq 200); do
            PORT=$(sed -n 's/.*sluice listening rest_port=\([0-9]*\).*/\1/p' "$dir/server.log" | head -1)
            [ -n "$PORT" ] && break
            kill -0 "$SRV_PID" 2>/dev/null || break
            sleep 0.05
        done
        WS_PORT=$(sed -n 's/.*sluice listening rest_port=[0-9]* ws_port=\([0-9]*\).*/\1/p' "$dir/server.log" | head -1)
        [ -n "$PORT" ] || { tail -5 "$dir/server.log" >&2; return 1; }
        SL_VER=$(sed -n 's/.*INFO  sluice \([^ ]*\) node.*/\1/p' "$dir/server.log" | head -1)
        CID=$(curl -sf "http://127.0.0.1:$PORT/v1/info" | sed -n 's/.*"cluster_id" *: *"\([^"]*\)".*/\1/p')
        [ -n "$CID" ] || CID=$(curl -sf "http://127.0.0.1:$PORT/v3/clusters" |
            sed -n 's/.*"cluster_id" *: *"\([^"]*\)".*/\1/p' | head -1)
        local t
        for t in b100 b1k fan lat cu; do
            curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
                "http://127.0.0.1:$PORT/v3/clusters/$CID/topics" \
                -d "{\"topic_name\":\"$t\",\"partitions_count\":1}" || { echo "create topic $t failed" >&2; return 1; }
        done
        ;;
    redis-*)
        PORT=$(pick_port)
        launch "$dir" redis-server --bind 127.0.0.1 --port "$PORT" --dir "$dir" --daemonize no --protected-mode no \
            --appendonly yes --appendfsync "${cfg#redis-}" --save "" --auto-aof-rewrite-percentage 0 \
            --maxclients 10000 --logfile "$dir/server.log"
        wait_port "$PORT" 10 || { tail -5 "$dir/server.log" >&2; return 1; }
        ;;
    nats-*)
        PORT=$(pick_port)
        cat >"$dir/nats.conf" <<EOF
listen: 127.0.0.1:$PORT
max_payload: 1048576
jetstream {
  store_dir: "$dir/js"
}
EOF
        launch "$dir" nats-server -c "$dir/nats.conf" -l "$dir/server.log"
        wait_port "$PORT" 10 || { tail -5 "$dir/server.log" >&2; return 1; }
        ;;
    esac
}

# gen CFG ROW RUN CMD...: one generator run, its result line appended to RES with cfg=, row=, run= and rc=.
# GEN_NORM (a command) rewrites the output into result keys first; GEN_MIN_RECORDS fails a run with fewer records=.
gen() {
    local cfg=$1 row=$2 run=$3 out rc=0 line got
    shift 3
    out=$(timeout --kill-after=10 "$GEN_TIMEOUT" "$@" 2>>"$ERRS") || rc=$?
    [ -n "${GEN_NORM:-}" ] && out=$(printf '%s\n' "$out" | $GEN_NORM)
    line=$(printf '%s\n' "$out" | grep -E '(^| )(rec_per_s|deliveries_per_s|p99_us)=' | tail -1 || true)
    if [ -z "$line" ] && [ "$rc" = 0 ]; then rc=99; fi
    if [ -n "${GEN_MIN_RECORDS:-}" ] && [ "$rc" = 0 ]; then
        got=$(printf '%s\n' "$line" | sed -n 's/.* records=\([0-9]*\).*/\1/p')
        [ "${got:-0}" -ge "$GEN_MIN_RECORDS" ] || rc=98
    fi
    echo "cfg=$cfg row=$row run=$run rc=$rc $line" >>"$RES"
    if [ "$rc" = 0 ]; then printf '.'; else
        printf 'x'
        echo "[$cfg $row run $run] rc=$rc$([ "$rc" = 124 ] && echo ' (timed out)')$([ "$rc" = 98 ] && echo ' (fewer records than asked)'): $* -> ${line:-no result line}" >>"$ERRS"
    fi
}
# ws_norm SECS SUBS: a ws_fanout line in result keys: records/s -> rec_per_s, deliveries/s -> deliveries_per_s,
# p50=1.2ms -> p50_us=1200 (p99, p99.9 -> p99_us, p999_us); latency mode samples every (SUBS / 100)-th record
# delivered in the counted SECS (every one up to 100 subscribers): deliveries_per_s = samples x that / SECS.
ws_norm() {
    sed -e 's#records/s=#rec_per_s=#; s#deliveries/s=#deliveries_per_s=#; s#produced/s=#produced_per_s=#' |
        awk -v secs="$1" -v subs="$2" '{ s = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^(p50|p99|p99\.9)=[0-9.]+ms$/) {
                    split($i, a, "="); v = a[2]; sub(/ms$/, "", v)
                    k = a[1] == "p50" ? "p50_us" : (a[1] == "p99" ? "p99_us" : "p999_us")
                    $i = k "=" sprintf("%.0f", v * 1000)
                }
                if ($i ~ /^samples=/) s = substr($i, 9)
            }
            every = subs > 100 ? int(subs / 100) : 1
            if (s != "") $0 = $0 " deliveries_per_s=" sprintf("%.0f", s * every / secs)
            print }'
}
ws_ok() { [ -x "$WS_FANOUT" ] && [ -n "${WS_PORT:-}" ] && [ "${WS_PORT:-0}" != 0 ]; }
declare -A WS_BROKEN=()
na() { # CFG ROW RUN WHY: a cell that could not run
    echo "cfg=$1 row=$2 run=$3 rc=na why=$4" >>"$RES"
    printf '-'
}

# one_run CFG RUN N SECS LAT_SECS WARM: every workload against one fresh server.
one_run() {
    local cfg=$1 run=$2 n=$3 secs=$4 lsecs=$5 warm=$6 dir="$WORK/$1-$2"
    local try
    for try in 1 2 3; do
        start_server "$cfg" "$dir" 2>>"$ERRS" && break
        echo "[$cfg run $run] server did not start (try $try)" >>"$ERRS"
        stop_server
        rm -rf "$dir"
        if [ "$try" = 3 ]; then printf 'S'; return; fi
    done
    case "$cfg" in
    sluice-*)
        local R=(--port "$PORT" --conns "$CONNS" --threads 2 --warmup 0 --duration 3600)
        gen "$cfg" r1 "$run" "$REST_LOAD" --mode produce "${R[@]}" --topic b100 --records 1000 --value-size 100 \
            --target-records "$n"
        gen "$cfg" r3rest "$run" "$REST_LOAD" --mode consume --port "$PORT" --conns 1 --threads 1 --duration 3600 \
            --topic b100 --group "g$run" --target-records "$n"
        if ! ws_ok; then
            na "$cfg" r3ws "$run" "ws_fanout or the WebSocket port not available"
        elif [ -n "${WS_BROKEN[$cfg]:-}" ]; then
            na "$cfg" r3ws "$run" "failed in an earlier run"
        else # ws_fanout catchup fills topic cu with N records of its own (100 per request), then one socket reads
            GEN_TIMEOUT=$WS_READ_TIMEOUT GEN_NORM="ws_norm 1 1" GEN_MIN_RECORDS=$n \
                gen "$cfg" r3ws "$run" "$WS_FANOUT" catchup "$PORT" "$WS_PORT" cu "$n"
            tail -1 "$RES" | grep -q ' rc=0 ' || WS_BROKEN[$cfg]=1
        fi
        gen "$cfg" r2 "$run" "$REST_LOAD" --mode produce "${R[@]}" --topic b1k --records 1000 --value-size 1024 \
            --target-records "$n"
        if ws_ok; then
            WS_SERVER_PID=$SRV_PID GEN_NORM="ws_norm $lsecs 1" gen "$cfg" r5 "$run" "$WS_FANOUT" latency "$PORT" \
                "$WS_PORT" lat 1 "$lsecs" "$LAT_RATE"
            WS_SERVER_PID=$SRV_PID GEN_NORM="ws_norm $secs $FAN_SUBS" gen "$cfg" r4 "$run" "$WS_FANOUT" latency \
                "$PORT" "$WS_PORT" fan "$FAN_SUBS" "$secs" "$FAN_RATE"
        else
            na "$cfg" r5 "$run" "ws_fanout or the WebSocket port not available"
            na "$cfg" r4 "$run" "ws_fanout or the WebSocket port not available"
        fi
        ;;
    redis-*)
        local R=(--port "$PORT" --conns "$CONNS" --pipeline "$PIPE")
        gen "$cfg" r1 "$run" "$REDIS_LOAD" --mode ingest "${R[@]}" --key b100 --records "$n" --value-size 100
        gen "$cfg" r3 "$run" "$REDIS_LOAD" --mode read --port "$PORT" --key b100 --count 1000
        gen "$cfg" r2 "$run" "$REDIS_LOAD" --mode ingest "${R[@]}" --key b1k --records "$n" --value-size 1024
        gen "$cfg" r5 "$run" "$REDIS_LOAD" --mode latency --port "$PORT" --key lat --rate "$LAT_RATE" \
            --value-size 100 --warmup-secs "$warm" --secs "$lsecs" --timeout 30
        gen "$cfg" r4 "$run" "$REDIS_LOAD" --mode fanout --port "$PORT" --key fan --subs "$FAN_SUBS" \
            --rate "$FAN_RATE" --value-size 100 --warmup-secs "$warm" --secs "$secs" --timeout "$DRAIN"
        ;;
    nats-*)
        local R=(--port "$PORT" --conns "$CONNS" --window "$WINDOW")
        gen "$cfg" r1 "$run" "$NATS_LOAD" --mode ingest "${R[@]}" --stream B100 --records "$n" --value-size 100
        gen "$cfg" r3 "$run" "$NATS_LOAD" --mode read --port "$PORT" --stream B100
        gen "$cfg" r2 "$run" "$NATS_LOAD" --mode ingest "${R[@]}" --stream B1K --records "$n" --value-size 1024
        gen "$cfg" r5 "$run" "$NATS_LOAD" --mode latency --port "$PORT" --stream LAT --rate "$LAT_RATE" \
            --value-size 100 --warmup-secs "$warm" --secs "$lsecs" --timeout 30
        gen "$cfg" r4 "$run" "$NATS_LOAD" --mode fanout --port "$PORT" --stream FAN --subs "$FAN_SUBS" \
            --rate "$FAN_RATE" --value-size 100 --warmup-secs "$warm" --secs "$secs" --timeout "$DRAIN"
        ;;
    esac
    stop_server
    rm -rf "$dir"
}

# ---------------------------------------------------------------- environment
echo "== environment =="
echo "dir: $WORK   filesystem: $FSTYPE"
echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')   kernel: $(uname -r)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average at start: $LOAD0"
echo "N = $N records per ingest row (5 M x SCALE $SCALE); row 4: $WARM s warm-up + $SECS s; row 5: $WARM s + $LAT_SECS s"
echo "runs: $RUNS (+$WARMUP warm-up)"
echo "systems: $SYSTEMS"

echo "== runs (. ok, x failed, - not available, S server did not start) =="
NW=$((N / 10 > 1000 ? N / 10 : 1000))
for w in $(seq "$WARMUP"); do
    printf '  %-10s' "warm-up $w"
    for cfg in $SYSTEMS; do
        printf ' %s:' "$cfg"
        one_run "$cfg" "w$w" "$NW" 1 1 0.5
    done
    echo
done
for r in $(seq "$RUNS"); do # systems interleaved within each run: drift in the machine's speed hits all alike
    printf '  %-10s' "run $r"
    for cfg in $SYSTEMS; do
        printf ' %s:' "$cfg"
        one_run "$cfg" "$r" "$N" "$SECS" "$LAT_SECS" "$WARM"
    done
    echo
done
T_RAN=$(date +%s)

# ---------------------------------------------------------------- report
# stat3 CFG ROW KEY: "min median max ok failed" over the counted runs.
stat3() {
    awk -v c="$1" -v r="$2" -v k="$3" '
        { split("", f); for (i = 1; i <= NF; i++) { j = index($i, "="); if (j) f[substr($i, 1, j - 1)] = substr($i, j + 1) } }
        f["cfg"] == c && f["row"] == r && f["run"] !~ /^w/ {
            if (f["rc"] == "0") { if (k in f) print "ok", f[k] } else if (f["rc"] != "na") print "fail", 0 }' "$RES" |
        awk '$1 == "ok" { v[++n] = $2 + 0 } $1 == "fail" { bad++ }
             END { if (!n) { printf "nan nan nan 0 %d\n", bad + 0; exit }
                   for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
                   printf "%s %s %s %d %d\n", v[1], v[int((n + 1) / 2)], v[n], n, bad + 0 }'
}
fmt() { # KIND VALUE
    awk -v k="$1" -v x="$2" 'BEGIN {
        if (x == "nan") { printf "n/a"; exit }
        if (k == "pct") { printf "%.1f %%", x * 100; exit }
        if (k == "rate") { if (x >= 1e6) printf "%.2f M", x / 1e6; else if (x >= 1e3) printf "%.0f k", x / 1e3; else printf "%.0f", x }
        else if (x >= 1e5) printf "%.0f ms", x / 1e3; else if (x >= 1e4) printf "%.1f ms", x / 1e3
        else if (x >= 1e3) printf "%.2f ms", x / 1e3; else printf "%.0f µs", x }'
}
cell() { # KIND CFG ROW KEY -> "median (min-max)"
    local a b c n bad s
    read -r a b c n bad <<<"$(stat3 "$2" "$3" "$4")"
    if [ "$n" = 0 ]; then
        if [ "$bad" -gt 0 ]; then s="failed ($bad)"; else s="n/a"; fi
    elif [ "$n" = 1 ]; then
        s="$(fmt "$1" "$b")"
    else
        s="$(fmt "$1" "$b") ($(fmt "$1" "$a")–$(fmt "$1" "$c"))"
    fi
    [ "$n" != 0 ] && [ "$bad" -gt 0 ] && s="$s [$bad failed]"
    printf '%s' "$s"
}
med() { stat3 "$1" "$2" "$3" | cut -d' ' -f2; }
ratio() { # KIND SLUICE_MED PEER_MED: >1 means sluice better
    awk -v k="$1" -v s="$2" -v p="$3" 'BEGIN {
        if (s == "nan" || p == "nan" || s + 0 == 0 || p + 0 == 0) { printf "–"; exit }
        r = (k == "lat") ? p / s : s / p
        printf "%.2f×", r }'
}
has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; esac; return 1; }

# rows: ID|label|kind|sluice row|peer row|key
ROWS="r1|1 ingest N × 100 B, batched (records/s)|rate|r1|r1|rec_per_s
r2|2 ingest N × 1 KiB, batched (records/s)|rate|r2|r2|rec_per_s
r3a|3 read back N × 100 B (records/s); sluice: REST long poll|rate|r3rest|r3|rec_per_s
r3b|3 read back N × 100 B (records/s); sluice: WebSocket (ws_fanout catchup, its own N records)|rate|r3ws|r3|rec_per_s
r4a|4 fan-out $FAN_RATE msg/s → $FAN_SUBS subscribers: deliveries/s|rate|r4|r4|deliveries_per_s
r4b|4 fan-out $FAN_RATE msg/s → $FAN_SUBS subscribers: p99 latency|lat|r4|r4|p99_us
r4c|4 fan-out: share delivered by $DRAIN s after the last send|pct|r4|r4|complete
r5a|5 produce→deliver, one subscriber, $LAT_RATE msg/s: p50|lat|r5|r5|p50_us
r5b|5 produce→deliver, one subscriber, $LAT_RATE msg/s: p99|lat|r5|r5|p99_us
r5c|5 produce→deliver, one subscriber, $LAT_RATE msg/s: p99.9|lat|r5|r5|p999_us"

echo
echo "== result: median (min–max) of $RUNS runs; N = $N; ratio > 1 means sluice is better =="
echo "   (ratio = sluice/peer for rates, peer/sluice for latencies; each pair of medians from the same runs)"
echo
cols=""
for cfg in $SYSTEMS; do
    case $cfg in
    sluice-sync) cols="$cols | sluice sync" ;; sluice-async) cols="$cols | sluice async" ;;
    redis-always) cols="$cols | Redis always" ;; redis-everysec) cols="$cols | Redis everysec" ;;
    nats-file) cols="$cols | NATS JetStream file" ;; *) cols="$cols | $cfg" ;;
    esac
done
rcols=""
has sluice-sync && has redis-always && rcols="$rcols | sync ÷ Redis always"
has sluice-async && has redis-everysec && rcols="$rcols | async ÷ Redis everysec"
has sluice-async && has nats-file && rcols="$rcols | async ÷ NATS"
has sluice-sync && has nats-file && rcols="$rcols | sync ÷ NATS"
echo "| workload$cols$rcols |"
sep="|---"
for _ in $SYSTEMS $(printf '%s' "$rcols" | tr -cd '|' | sed 's/|/x /g'); do sep="$sep|---"; done
echo "$sep|"
while IFS='|' read -r id label kind srow prow key; do
    line="| $label"
    for cfg in $SYSTEMS; do
        case $cfg in sluice-*) row=$srow ;; *) row=$prow ;; esac
        line="$line | $(cell "$kind" "$cfg" "$row" "$key")"
    done
    if has sluice-sync && has redis-always; then
        line="$line | $(ratio "$kind" "$(med sluice-sync "$srow" "$key")" "$(med redis-always "$prow" "$key")")"
    fi
    if has sluice-async && has redis-everysec; then
        line="$line | $(ratio "$kind" "$(med sluice-async "$srow" "$key")" "$(med redis-everysec "$prow" "$key")")"
    fi
    if has sluice-async && has nats-file; then
        line="$line | $(ratio "$kind" "$(med sluice-async "$srow" "$key")" "$(med nats-file "$prow" "$key")")"
    fi
    if has sluice-sync && has nats-file; then
        line="$line | $(ratio "$kind" "$(med sluice-sync "$srow" "$key")" "$(med nats-file "$prow" "$key")")"
    fi
    echo "$line |"
done <<<"$ROWS"

echo
echo "== what ran =="
echo "sluice:  ${SL_VER:-?} ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+local changes')), $SLUICE"
echo "         sync: ack after fdatasync (group commit); async: ack after the page-cache write, fsync every 1000 ms"
echo "         libmicrohttpd $(pkg-config --modversion libmicrohttpd 2>/dev/null), libwebsockets $(pkg-config --modversion libwebsockets 2>/dev/null), jansson $(pkg-config --modversion jansson 2>/dev/null)"
echo "         generators: $REST_LOAD (rows 1-3), $([ -x "$WS_FANOUT" ] && echo "$WS_FANOUT" || echo "ws_fanout NOT BUILT") (rows 3-5)"
echo "         ws_fanout: rows 4-5 produce open loop over a pool of keep-alive REST connections (a request at its"
echo "         scheduled time on an idle one, up to ${PRODUCER_CONNS:-16}), one record per request below"
echo "         2000/s, latency from the scheduled time, 1 s warm-up, every frame acked; deliveries/s from its latency"
echo "         samples; it does not report undelivered records (row 4 'share delivered': n/a); row 3 WebSocket"
echo "         reads its own N records (JSON {\"t\":..,\"pad\":..}, ~90 B) from topic cu, filled just before"
echo "Redis:   $(redis-server --version | sed 's/ sha=.*//') ($(redis-server --version | sed -n 's/.*\(malloc=[^ ]*\).*/\1/p')), hiredis $(pkg-config --modversion hiredis)"
echo "         AOF appendfsync always | everysec, RDB off, AOF rewrite off, one stream per row"
echo "NATS:    $(nats-server --version), NATS C client (libnats) $(pkg-config --modversion libnats)"
echo "         JetStream file storage, 1 replica, ack once stored (OS write); file store fsync every 2 min (2.9 default)"
echo "client settings: $CONNS connections for ingest; Redis pipeline $PIPE; NATS async window $WINDOW per connection;"
echo "         sluice 1000-record REST batches; read-back: one consumer; fan-out: one connection per subscriber"
echo "compiler: $(cc --version | head -1)"
echo "load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)   build $((T_BUILT - T_BEGIN)) s, runs $((T_RAN - T_BUILT)) s"
if awk -v l="${LOAD0%% *}" 'BEGIN { exit !(l > 1.0) }'; then
    echo "NOTE: the load average was ${LOAD0%% *} when the runs began: other work was running on this $(nproc)-core machine,"
    echo "      so the figures are noisy (see the min–max spreads)."
fi
if grep -q '^\[' "$ERRS"; then
    echo
    echo "== failures (first 30) =="
    grep '^\[' "$ERRS" | head -30
fi
other=$(grep -vc '^\[' "$ERRS" || true)
[ "${other:-0}" = 0 ] || echo "(generators wrote $other other lines to stderr; KEEP_RESULTS=1 keeps them in BENCH_DIR/compare.stderr.txt)"
