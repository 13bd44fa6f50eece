#!/usr/bin/env bash
# e2e: AccessPolicy allow and deny, by workload identity. With "only frontend
# may call backend", the frontend is served while a meshed pod of another
# service account (mTLS, but the wrong identity) and a plaintext pod are
# refused by the backends' proxies with 403. Turned into "deny frontend", it
# is the other way round for the two meshed callers.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up authz
mesh_apply_yaml 15-other.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: other-0
  namespace: demo
  labels: {app: other}
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: other
  containers: [{name: app, image: weft-test-backend}]
status: {podIP: 192.0.2.20}
YAML
mesh_sample_pods
mesh_pod other-0 20 other
mesh_plain_pod outsider 30
backends=(backend-v1-0 backend-v1-flaky backend-v2-0)

# policy ACTION: an AccessPolicy on `backend` for callers of service account frontend.
policy() {
  mesh_apply_yaml 30-access.yaml <<YAML
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata:
  name: backend-callers
  namespace: demo
spec:
  targetRef: {kind: Service, name: backend}
  action: $1
  rules:
    - from:
        serviceAccounts: [{name: frontend, namespace: demo}]
      ports: [8080]
YAML
  local b
  for b in "${backends[@]}"; do
    mesh_wait_until "$b's proxy has the $1 rule" 5 mesh_config_has "$b" "\"action\": *\"$1\""
  done
}
# calls POD URL: "STATUS WEFT-ERROR" of 20 requests, tallied.
calls() {
  { mesh_exec "$1" curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{weft-error}\n' \
    "$2?i=[1-20]" || true; } | sort | uniq -c | awk '{ print $1, $2, $3 }'
}
denied() {
  local sum=0 b
  for b in "${backends[@]}"; do
    sum=$((sum + $(mesh_metric "$b" weft_authz_denied_total)))
  done
  echo "$sum"
}

policy ALLOW
mesh_expect "ALLOW frontend: the frontend is served" \
  test "$(calls frontend-0 "$MESH_BACKEND_URL/")" = "20 200 "
mesh_expect "ALLOW frontend: another service account is refused" \
  test "$(calls other-0 "$MESH_BACKEND_URL/")" = "20 403 forbidden"
mesh_expect "ALLOW frontend: a plaintext caller is refused" \
  test "$(calls outsider "http://$(mesh_ip backend-v1-0):8080/")" = "20 403 forbidden"
mesh_expect "the backends' proxies counted 40 denials" test "$(denied)" -eq 40

policy DENY
mesh_expect "DENY frontend: the frontend is refused" \
  test "$(calls frontend-0 "$MESH_BACKEND_URL/")" = "20 403 forbidden"
mesh_expect "DENY frontend: another service account is served" \
  test "$(calls other-0 "$MESH_BACKEND_URL/")" = "20 200 "
mesh_expect "the backends' proxies counted 20 more denials" test "$(denied)" -eq 60
