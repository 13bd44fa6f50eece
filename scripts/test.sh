#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every
# test (unit, integration, e2e). Pass ctest arguments to narrow it, e.g.
#   scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
BUILD_DIR=${WEFT_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${WEFT_TEST_JOBS:-2}" "$@"
