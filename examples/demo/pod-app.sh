#!/usr/bin/env bash
# The demo's pod app: tests/e2e/lib/mesh.sh starts every pod's app as
# `$WEFT_TEST_BACKEND --listen ADDR --port PORT --name POD [FLAGS...]`; the
# demo points WEFT_TEST_BACKEND here so that its pods run weft-sample serve.
# exec keeps the pid, so the library's kill reaches weft-sample itself.
set -euo pipefail
if (($# < 6)) || [[ $1 != --listen || $3 != --port || $5 != --name ]]; then
  echo "pod-app.sh: expected --listen ADDR --port PORT --name POD [FLAGS...], got: $*" >&2
  exit 2
fi
: "${WEFT_SAMPLE:?pod-app.sh: set WEFT_SAMPLE to the weft-sample binary}"
listen=$2 port=$4 name=$6
shift 6
exec "$WEFT_SAMPLE" serve --listen "$listen:$port" --name "$name" "$@"
