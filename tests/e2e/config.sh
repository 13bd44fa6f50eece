#!/usr/bin/env bash
# e2e: a config change reaches the proxies within a second. A TrafficRoute
# is switched between "all to backend-v2" and "all to backend-v1" by
# rewriting its file; each time, the frontend's requests follow within 1 s of
# the write (measured from the rename to the first request of a run of 5
# answered by the new side). The backends' Inbound documents follow as fast:
# an AccessPolicy change shows in their /config within the same second.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up config
mesh_sample_pods

# route VERSION: every request to `backend` goes to backend-VERSION.
route() {
  mesh_apply_yaml 30-route.yaml <<YAML
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata:
  name: backend-switch
  namespace: demo
spec:
  parentRefs: [{name: backend, port: 8080}]
  rules:
    - backendRefs: [{name: backend-$1, port: 8080}]
YAML
}
# switch VERSION: routes to VERSION and prints how many ms passed until the
# frontend's requests went there (5 in a row), or fails after 5 s.
switch() {
  local pattern=$1 version=$2 start streak=0 b
  start=$(mesh_now_ms)
  route "$version"
  while (($(mesh_now_ms) - start < 5000)); do
    b=$(mesh_exec frontend-0 curl -s -o /dev/null --max-time 2 -w '%header{x-backend}' \
      "$MESH_BACKEND_URL/" || true)
    # shellcheck disable=SC2053 # PATTERN is a glob
    if [[ $b == $pattern ]]; then
      ((streak == 0)) && first=$(($(mesh_now_ms) - start))
      streak=$((streak + 1))
      ((streak == 5)) && { echo "$first"; return 0; }
    else
      streak=0
    fi
  done
  mesh_fail "requests did not move to backend-$version within 5 s"
}

route v1
mesh_requests frontend-0 1 "$MESH_BACKEND_URL/" >/dev/null
mesh_wait_until "the frontend's proxy routes to v1" 5 \
  mesh_config_has frontend-0 '"backend-v1\.demo\.svc\.cluster\.local:8080"'

worst=0
for target in v2 v1 v2; do
  if [[ $target == v2 ]]; then ms=$(switch 'backend-v2-0' v2); else ms=$(switch 'backend-v1-*' v1); fi
  mesh_log "switch to $target took effect after $ms ms"
  ((ms > worst)) && worst=$ms
done
mesh_expect "every route change reached the frontend's proxy within 1 s (worst $worst ms)" \
  test "$worst" -lt 1000

start=$(mesh_now_ms)
mesh_apply_yaml 30-access.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: backend-callers, namespace: demo}
spec:
  targetRef: {kind: Service, name: backend}
  action: ALLOW
  rules: [{from: {serviceAccounts: [{name: frontend, namespace: demo}]}}]
YAML
for b in backend-v1-0 backend-v1-flaky backend-v2-0; do
  mesh_wait_until "$b has the rule" 5 mesh_config_has "$b" '"action": *"ALLOW"'
done
ms=$(($(mesh_now_ms) - start))
mesh_expect "the AccessPolicy reached the three backends' proxies within 1 s ($ms ms)" test "$ms" -lt 1000
