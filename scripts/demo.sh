#!/usr/bin/env bash
# The README's first command: installs what is needed, builds what the demo
# runs and runs it (examples/demo/run.sh; flags such as --fast pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  # Before installing or building anything: run.sh says what it needs and how.
  exec ./examples/demo/run.sh "$@"
fi
./scripts/install-deps.sh
WEFT_BUILD_TARGET=weft-demo ./scripts/build.sh
exec ./examples/demo/run.sh "$@"
