#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every
# test (unit, integration, e2e), then the libFuzzer targets briefly from a
# second, clang build ($WEFT_BUILD_DIR-fuzz). Pass ctest arguments to narrow
# both, e.g.
#   scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-tools.sh  # helm and the schema validator, for tests/helm
./scripts/build.sh
BUILD_DIR=${WEFT_BUILD_DIR:-build}

# Fuzzing first, so that the suite's own summary is what the run ends with; a
# crash fails the command after the suite has run.
fuzz_status=0
if command -v clang++ >/dev/null; then
  CC=clang CXX=clang++ WEFT_BUILD_DIR="$BUILD_DIR-fuzz" WEFT_BUILD_TARGET=weft_fuzz \
    ./scripts/build.sh -DWEFT_FUZZ=ON -DWEFT_BUILD_TESTS=OFF
  (cd "$BUILD_DIR-fuzz" && ctest --output-on-failure -L fuzz "$@") || fuzz_status=$?
else
  echo "test.sh: clang++ not found, fuzz targets skipped (scripts/install-deps.sh installs clang)"
fi

cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${WEFT_TEST_JOBS:-2}" "$@"
if [ "$fuzz_status" -ne 0 ]; then
  echo "test.sh: a fuzz target failed (see its output above)" >&2
fi
exit "$fuzz_status"
