#!/usr/bin/env bash
# log_bench.sh: builds tests/bench/log_bench.c (Release) and prints the partition log's append and read figures
# next to the storage targets, all measured in one run on one filesystem.
#
#   tests/bench/log_bench.sh
#   env: BENCH_DIR  where the logs are written (default build/bench-tmp; must be a real disk, not tmpfs)
#        RUNS       counted runs per figure (default 5; min/median/max are printed)
#        WARMUP     uncounted runs first, per case (default 1: on a VM the first pass over fresh memory is slow)
#        SCALE      multiplies every case's byte count (default 1; 0.25 for a quick look)
#        LOG_BENCH  a prebuilt log_bench to run instead of building one (e.g. to compare two builds)
#        KEEP_RESULTS=1  keeps the raw result lines in $BENCH_DIR/log_bench.results.txt
#
# Cases: record values of 100 B and 1 KiB, batches of 1, 100 and 1000 records, in
#   async  appends on one thread, then one fdatasync (figures with and without it);
#   sync   group commit: an appender thread and a flusher thread calling sl_log_sync() in a loop; the clock
#          stops when every batch is durable. Open loop (the appender never waits), plus batch=1 with one
#          batch in flight (a producer waiting for each ack: fsync-bound, bounded to 2000 appends).
# Batches are pre-encoded: encoding is not timed (log_bench --encode times it). Reads: sequential
# sl_log_read with 1 MiB max_bytes over the async x1000 logs, page cache warm. dd writes the same bytes as
# the sync 1000 x 1 KiB case, in blocks of one batch, with conv=fdatasync; its runs alternate with that
# case's and the ratio is taken pair by pair. MB = 10^6 bytes and counts whole batches as stored.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SCALE=${SCALE:-1}
BUILD="$ROOT/build/release"
BIN="$BUILD/log_bench"

if [ -n "${LOG_BENCH:-}" ]; then
    BIN=$LOG_BENCH
else
    echo "== build (Release) =="
    mkdir -p "$BUILD"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
           cmake --build "$BUILD" -j2 --target log_bench; } >"$BUILD/log_bench.build.txt" 2>&1; then
        tail -30 "$BUILD/log_bench.build.txt"
        echo "log_bench.sh: build failed (full log: $BUILD/log_bench.build.txt)" >&2
        exit 1
    fi
fi
echo "binary: $BIN"

BASE=${BENCH_DIR:-$ROOT/build/bench-tmp}
mkdir -p "$BASE"
WORK=$(mktemp -d "$BASE/log_bench.XXXXXX")
RES="$WORK/results.txt"
trap 'rm -rf "$WORK"' EXIT
FSTYPE=$(df --output=fstype "$WORK" | tail -1 | tr -d " ")
STATFS=$(stat -f -c %T "$WORK")
case "$FSTYPE" in
tmpfs | ramfs | devtmpfs)
    echo "log_bench.sh: $WORK is on $FSTYPE; set BENCH_DIR to a directory on a real disk" >&2
    exit 1
    ;;
esac
echo "== environment =="
echo "dir: $WORK   filesystem: $FSTYPE (statfs: $STATFS)"
df -hT "$WORK" | sed 's/^/  /'
echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "runs per figure: $RUNS (+$WARMUP warm-up)   scale: $SCALE   kernel: $(uname -r)"

bytes() { awk -v m="$1" -v s="$SCALE" 'BEGIN { printf "%d", m * 1048576 * s }'; }

# one LABEL ARGS...: one log_bench run in a fresh directory, its lines prefixed with LABEL.
one() {
    local label=$1
    shift
    sync
    "$BIN" --dir "$WORK/log" "$@" | sed "s/^/$label /" >>"$RES"
    rm -rf "$WORK/log"
}

# case LABEL ARGS...: WARMUP runs whose lines are dropped, then RUNS runs.
case_runs() {
    local label=$1
    shift
    printf '  %-16s' "$label"
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

# stat LABEL MODE KEY: "min median max" of KEY over the lines of LABEL whose mode is MODE.
stat3() {
    awk -v l="$1" -v m="$2" -v k="$3" '
        $1 == l { split("", f); for (i = 2; i <= NF; i++) { j = index($i, "="); f[substr($i, 1, j - 1)] = substr($i, j + 1) }
                  if (f["mode"] == m && (k in f)) print f[k] }' "$RES" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan nan nan"; else print v[1], v[int((NR + 1) / 2)], v[NR] }'
}

echo "== append runs =="
for rec in 100 1024; do
    if [ "$rec" = 100 ]; then small=80; big=512; else small=384; big=768; fi
    case_runs "a-$rec-1" --mode async --record-size $rec --batch 1 --total-bytes "$(bytes $small)"
    case_runs "a-$rec-100" --mode async --record-size $rec --batch 100 --total-bytes "$(bytes $big)"
    case_runs "a-$rec-1000" --mode async --record-size $rec --batch 1000 --total-bytes "$(bytes $big)" \
        --read --iterate --read-passes 3
    case_runs "s-$rec-1" --mode sync --record-size $rec --batch 1 --total-bytes "$(bytes $((small / 2)))" --max-secs 10
    case_runs "s-$rec-100" --mode sync --record-size $rec --batch 100 --total-bytes "$(bytes $big)"
    if [ "$rec" = 100 ]; then # 1000 x 1 KiB runs below, alternating with dd
        case_runs "s-$rec-1000" --mode sync --record-size $rec --batch 1000 --total-bytes "$(bytes $big)"
    fi
    case_runs "w1-$rec-1" --mode sync --record-size $rec --batch 1 --inflight 1 --max-appends 2000
done

echo "== sync 1000 x 1 KiB alternating with dd =="
printf '  %-16s' "s-1024-1000/dd"
for i in $(seq $((WARMUP + RUNS))); do
    label=s-1024-1000
    [ "$i" -le "$WARMUP" ] && label=warmup-s-1024-1000
    one "$label" --mode sync --record-size 1024 --batch 1000 --total-bytes "$(bytes 768)"
    line=$(tail -1 "$RES")
    total=$(echo "$line" | sed 's/.* bytes=\([0-9]*\).*/\1/')
    nb=$(echo "$line" | sed 's/.* batches=\([0-9]*\).*/\1/')
    lmb=$(echo "$line" | sed 's/.* MB_per_s=\([0-9.]*\).*/\1/')
    bs=$((total / nb))
    sync
    t0=$(date +%s%N)
    dd if=/dev/zero of="$WORK/dd.out" bs="$bs" count="$nb" conv=fdatasync status=none
    t1=$(date +%s%N)
    rm -f "$WORK/dd.out"
    p=; [ "$i" -le "$WARMUP" ] && p=warmup-
    awk -v p="$p" -v b=$((bs * nb)) -v ns=$((t1 - t0)) -v bs="$bs" -v n="$nb" -v l="$lmb" 'BEGIN {
        mb = b / (ns / 1e9) / 1e6
        printf "%sdd mode=dd bs=%d count=%d bytes=%d secs=%.6f MB_per_s=%.2f\n", p, bs, n, b, ns / 1e9, mb
        printf "%sratio mode=ratio r=%.4f\n", p, l / mb }' >>"$RES"
    [ "$i" -le "$WARMUP" ] && printf 'w' || printf '.'
done
echo

# ---- report ----
fmt_rate() { # min med max -> "med [min..max]" in M or k
    awk -v a="$1" -v b="$2" -v c="$3" 'function f(x) { if (x == "nan") return "n/a"; if (x >= 1e6) return sprintf("%.2fM", x / 1e6); if (x >= 1e3) return sprintf("%.1fk", x / 1e3); return sprintf("%.0f", x) }
        BEGIN { printf "%s [%s..%s]", f(b), f(a), f(c) }'
}
fmt_num() {
    awk -v a="$1" -v b="$2" -v c="$3" -v p="${4:-1}" 'BEGIN { if (b == "nan") { printf "n/a"; exit } printf "%.*f [%.*f..%.*f]", p, b, p, a, p, c }'
}

echo
echo "== append (median [min..max] of $RUNS runs; MB = 10^6 B of stored batches) =="
printf '%-6s %-5s %-6s %-26s %-26s %-26s %-24s %s\n' mode rec batch "records/s" "MB/s" "records/s no final sync" \
    "fsyncs" "ack p50/p99 us"
for rec in 100 1024; do
    for b in 1 100 1000; do
        read -r a b2 c <<<"$(stat3 "a-$rec-$b" async rec_per_s)"
        r1=$(fmt_rate "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "a-$rec-$b" async MB_per_s)"
        m1=$(fmt_num "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "a-$rec-$b" async rec_per_s_nosync)"
        r0=$(fmt_rate "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "a-$rec-$b" async fsyncs)"
        printf '%-6s %-5s %-6s %-26s %-26s %-26s %-24s %s\n' async $rec $b "$r1" "$m1" "$r0" "$(fmt_num "$a" "$b2" "$c" 0)" -
    done
    for b in 1 100 1000; do
        read -r a b2 c <<<"$(stat3 "s-$rec-$b" sync rec_per_s)"
        r1=$(fmt_rate "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "s-$rec-$b" sync MB_per_s)"
        m1=$(fmt_num "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "s-$rec-$b" sync fsyncs)"
        fs=$(fmt_num "$a" "$b2" "$c" 0)
        p50=$(stat3 "s-$rec-$b" sync ack_p50_us | cut -d' ' -f2)
        p99=$(stat3 "s-$rec-$b" sync ack_p99_us | cut -d' ' -f2)
        printf '%-6s %-5s %-6s %-26s %-26s %-26s %-24s %s\n' sync $rec $b "$r1" "$m1" - "$fs" "$p50 / $p99"
    done
    read -r a b2 c <<<"$(stat3 "w1-$rec-1" sync rec_per_s)"
    r1=$(fmt_rate "$a" "$b2" "$c")
    read -r a b2 c <<<"$(stat3 "w1-$rec-1" sync MB_per_s)"
    m1=$(fmt_num "$a" "$b2" "$c" 2)
    read -r a b2 c <<<"$(stat3 "w1-$rec-1" sync fsyncs)"
    fs=$(fmt_num "$a" "$b2" "$c" 0)
    p50=$(stat3 "w1-$rec-1" sync ack_p50_us | cut -d' ' -f2)
    p99=$(stat3 "w1-$rec-1" sync ack_p99_us | cut -d' ' -f2)
    printf '%-6s %-5s %-6s %-26s %-26s %-26s %-24s %s\n' sync-w1 $rec 1 "$r1" "$m1" - "$fs" "$p50 / $p99"
done

echo
echo "== sequential read (page cache warm, max_bytes 1 MiB; median [min..max] of $RUNS runs, each the median of 3 passes) =="
printf '%-10s %-5s %-6s %-26s %s\n' mode rec batch "records/s" "MB/s"
for rec in 100 1024; do
    for m in read read_iter; do
        read -r a b2 c <<<"$(stat3 "a-$rec-1000" $m rec_per_s)"
        r1=$(fmt_rate "$a" "$b2" "$c")
        read -r a b2 c <<<"$(stat3 "a-$rec-1000" $m MB_per_s)"
        printf '%-10s %-5s %-6s %-26s %s\n' $m $rec 1000 "$r1" "$(fmt_num "$a" "$b2" "$c")"
    done
done

echo
echo "== dd (same bytes as sync 1000 x 1 KiB, bs = one batch, conv=fdatasync) =="
read -r a b2 c <<<"$(stat3 dd dd MB_per_s)"
echo "dd MB/s: $(fmt_num "$a" "$b2" "$c")   bs=$(stat3 dd dd bs | cut -d' ' -f2) count=$(stat3 dd dd count | cut -d' ' -f2)"

echo
echo "== summary: targets (medians; [min..max]) =="
printf '%-52s %-30s %-14s %s\n' figure measured target verdict
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "nan") print "n/a"; else print (x + 0 >= t + 0 ? "MET" : "MISSED") }'; }
read -r a b2 c <<<"$(stat3 ratio ratio r)"
printf '%-52s %-30s %-14s %s\n' "sync 1000 x 1 KiB MB/s / dd MB/s (paired)" "$(fmt_num "$a" "$b2" "$c" 3)" ">= 0.85" \
    "$(verdict "$b2" 0.85)"
read -r a b2 c <<<"$(stat3 s-1024-1000 sync MB_per_s)"
printf '%-52s %-30s %-14s %s\n' "  sync 1000 x 1 KiB MB/s" "$(fmt_num "$a" "$b2" "$c")" "" ""
read -r a b2 c <<<"$(stat3 dd dd MB_per_s)"
printf '%-52s %-30s %-14s %s\n' "  dd MB/s" "$(fmt_num "$a" "$b2" "$c")" "" ""
read -r a b2 c <<<"$(stat3 a-100-1000 async rec_per_s_nosync)"
printf '%-52s %-30s %-14s %s\n' "async 100 B x 1000 records/s, one thread, no sync" "$(fmt_rate "$a" "$b2" "$c")" \
    ">= 3M" "$(verdict "$b2" 3e6)"
read -r a b2 c <<<"$(stat3 a-100-1000 async rec_per_s)"
printf '%-52s %-30s %-14s %s\n' "async 100 B x 1000 records/s, with the final sync" "$(fmt_rate "$a" "$b2" "$c")" \
    ">= 3M" "$(verdict "$b2" 3e6)"
for rec in 1024 100; do
    read -r a b2 c <<<"$(stat3 "a-$rec-1000" read MB_per_s)"
    printf '%-52s %-30s %-14s %s\n' "read $rec B x 1000 MB/s (headers only)" "$(fmt_num "$a" "$b2" "$c")" ">= 1000" \
        "$(verdict "$b2" 1000)"
    read -r a b2 c <<<"$(stat3 "a-$rec-1000" read_iter MB_per_s)"
    printf '%-52s %-30s %-14s %s\n' "read $rec B x 1000 MB/s (every record decoded)" "$(fmt_num "$a" "$b2" "$c")" \
        ">= 1000" "$(verdict "$b2" 1000)"
done
echo
if [ "${KEEP_RESULTS:-0}" = 1 ]; then
    cp "$RES" "$BASE/log_bench.results.txt"
    echo "raw result lines: $BASE/log_bench.results.txt"
fi
