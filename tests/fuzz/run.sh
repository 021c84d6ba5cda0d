#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz (built by `make build-fuzz` into build/fuzz).
#
#   tests/fuzz/run.sh [SECONDS] [JOBS] [BUILD_DIR] [HARNESS...]
#     SECONDS    per harness (default 60)
#     JOBS       libFuzzer processes per harness (default 1; > 1 uses -fork=JOBS)
#     BUILD_DIR  where the fuzz_* binaries are (default build/fuzz)
#     HARNESS    names without "fuzz_" (default: every fuzz_* binary in BUILD_DIR)
#
# Each harness runs on its committed seeds (tests/fuzz/corpus/<harness>, never written to) and a work
# corpus $FUZZ_WORK/<harness> (default BUILD_DIR/work), which keeps what it found across runs (delete it to
# start over). A crash,
# leak, sanitizer report or failed invariant stops that harness, saves the input to
# BUILD_DIR/crashes/<harness>/ and makes the script exit 1 (the other harnesses still run). To reproduce:
# BUILD_DIR/fuzz_<harness> <saved file>. A reproducer worth keeping goes into corpus/<harness>/ with the fix.
# `make test-fuzz` runs this for 8 seconds with a fresh FUZZ_WORK=BUILD_DIR/ci-work.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
jobs=${2:-1}
build=${3:-build/fuzz}
shift $(( $# < 3 ? $# : 3 ))
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for b in "$build"/fuzz_*; do [ -x "$b" ] && names+=("${b##*/fuzz_}"); done
fi
[ ${#names[@]} -gt 0 ] || { echo "run.sh: no fuzz_* binaries in $build (make build-fuzz)" >&2; exit 2; }

failed=()
for h in "${names[@]}"; do
  bin="$build/fuzz_$h" seeds="tests/fuzz/corpus/$h" work="${FUZZ_WORK:-$build/work}/$h" crashes="$build/crashes/$h"
  log="$build/logs/$h.log"
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  par=()
  [ "$jobs" -gt 1 ] && par=(-fork="$jobs")
  # -timeout: one input may take 10 s at most (a hang is a bug); -rss_limit_mb: 2 GiB per process.
  "$bin" "${par[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(grep -aoE '^stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
  [ -n "$runs" ] || runs=$(grep -aoE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+')
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  if [ $rc -ne 0 ]; then
    failed+=("$h")
    echo "fuzz_$h: FAILED (exit $rc) after ${runs:-?} runs; input saved in $crashes/; log $log:"
    grep -aE 'ERROR: |runtime error|invariant failed|SUMMARY|Test unit written' "$log" | head -20
  else
    echo "fuzz_$h: ok, ${runs:-?} runs in ${secs}s, coverage ${cov:-?}, corpus $(ls "$work" | wc -l) files"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: failed: ${failed[*]}"
  exit 1
fi
