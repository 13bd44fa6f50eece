#!/usr/bin/env bash
# Configures and builds Weft into build/ (or $WEFT_BUILD_DIR); only
# $WEFT_BUILD_TARGET when set. Extra arguments go to CMake, e.g.
# -DWEFT_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${WEFT_BUILD_DIR:-build}
JOBS=${WEFT_JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Hits across checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=1
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${WEFT_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" ${WEFT_BUILD_TARGET:+--target "$WEFT_BUILD_TARGET"}
