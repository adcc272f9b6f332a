#!/usr/bin/env bash
# Installs dependencies if missing, builds everything and runs the whole test suite with ctest.
# With COLONY_SANITIZER_CHECKS=true (the default when CI=true) it then runs the fuzz targets
# for a bounded count (scripts/fuzz.sh) and the tests of the layers without LibTorch under
# ASan + UBSan (scripts/sanitize-tests.sh), each in its own build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 600)
if [ "${COLONY_SANITIZER_CHECKS:-${CI:-false}}" = "true" ]; then
  scripts/fuzz.sh
  scripts/sanitize-tests.sh
fi
