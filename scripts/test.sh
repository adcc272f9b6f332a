#!/usr/bin/env bash
# Installs dependencies if missing, builds everything and runs the whole test suite with ctest.
# With COLONY_FUZZ_CHECKS=true (the default when CI=true) it then runs the fuzz targets for a
# bounded time (scripts/fuzz.sh, FUZZ_SECONDS each, 45 in CI); with
# COLONY_SANITIZER_CHECKS=true (opt-in) also the tests of the layers without LibTorch under
# ASan + UBSan (scripts/sanitize-tests.sh), each in its own build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600)
if [ "${COLONY_FUZZ_CHECKS:-${CI:-false}}" = "true" ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} scripts/fuzz.sh
fi
if [ "${COLONY_SANITIZER_CHECKS:-false}" = "true" ]; then
  scripts/sanitize-tests.sh
fi
