#!/usr/bin/env bash
# Builds the layers without LibTorch (base, rpc, ps, data, retrieval, cluster) and their test
# binaries with AddressSanitizer and UndefinedBehaviorSanitizer into
# ${SANITIZE_BUILD_DIR:-build-asan} and runs those tests. Any sanitizer report fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
TESTS=(colony_base_tests colony_rpc_tests colony_ps_tests colony_ps_service_tests
       colony_data_tests colony_retrieval_tests colony_cluster_tests)

# -O1: sanitizer builds of -O3 code take about twice as long to compile.
cmake -S . -B "$BUILD_DIR" -DCOLONY_SANITIZE=ON -DCOLONY_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" >/dev/null
start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TESTS[@]}"
echo "sanitize: built ${#TESTS[@]} test binaries in $(( $(date +%s) - start )) s"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
cd "$BUILD_DIR"
# Only the binaries built above: the torch layers' tests show as <target>_NOT_BUILT here.
ctest --output-on-failure -j "$JOBS" --timeout 600 -E '_NOT_BUILT$'
echo "sanitize: tests ran in $(( $(date +%s) - start )) s"
