#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, no LibTorch) into
# ${FUZZ_BUILD_DIR:-build-fuzz} and runs each from its committed seed corpus
# (tests/fuzz/corpus/<target>) for FUZZ_RUNS inputs (default 20000), at most FUZZ_SECONDS
# seconds each (default 120). New interesting inputs go to <build dir>/corpus/<target>, never
# into the repository. A crash, sanitizer report, leak or timeout stops the script with
# libFuzzer's report and the input saved as <build dir>/crash-*; add it to the target's corpus
# and write a unit test for the fix.
#   scripts/fuzz.sh                 # every target
#   scripts/fuzz.sh config_fuzz     # one target
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
RUNS=${FUZZ_RUNS:-20000}
MAX_SECONDS=${FUZZ_SECONDS:-120}
# A fixed seed makes a run repeatable (CI); FUZZ_SEED=0 lets libFuzzer pick one.
SEED=${FUZZ_SEED:-1}
JOBS=${JOBS:-$(nproc)}
ALL=(data_lines_fuzz config_fuzz table_file_fuzz index_file_fuzz vector_file_fuzz ps_service_fuzz)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi

# -O1 with line tables: sanitizer reports with file:line at a fraction of -O3's build time.
# Asserts stay on (no NDEBUG).
cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ -DCOLONY_FUZZ=ON \
  -DCOLONY_BUILD_TESTS=OFF -DCOLONY_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" >/dev/null
start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"
echo "fuzz: built ${#TARGETS[@]} targets in $(( $(date +%s) - start )) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for target in "${TARGETS[@]}"; do
  work="$BUILD_DIR/corpus/$target"
  mkdir -p "$work"
  log="$BUILD_DIR/$target.log"
  t0=$(date +%s)
  if ! "$BUILD_DIR/tests/fuzz/$target" -runs="$RUNS" -max_total_time="$MAX_SECONDS" \
      -seed="$SEED" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$BUILD_DIR/" \
      "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED after $(( $(date +%s) - t0 )) s (log: $log)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz: $target: ${runs:-?} inputs in $(( $(date +%s) - t0 )) s, no crash"
done
