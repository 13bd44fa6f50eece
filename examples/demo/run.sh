#!/usr/bin/env bash
# The local mesh demo. For now it starts what exists: each binary reports
# its version. Later issues grow it into the full mesh in network namespaces.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${WEFT_BUILD_DIR:-build}
for b in proxy/weft-proxy operator/weft-operator webhook/weft-injector cli/weftctl; do
  "$BIN/$b" --version
done
echo "demo: all four binaries start; the mesh demo arrives with the proxy and operator"
