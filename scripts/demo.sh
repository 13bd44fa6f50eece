#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the
# local mesh demo.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./examples/demo/run.sh "$@"
