#!/usr/bin/env bash
# e2e: a proxy keeps its last config while the operator is down. With a
# TrafficRoute that sends everything to backend-v2 in force, the operator is
# killed; for the next seconds (past the proxies' reconnect attempts) every
# request still follows that route over mTLS, on new connections too, and the
# proxies stay ready. When the operator is back, a change reaches them again.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up lastconfig
mesh_sample_pods
mesh_apply_yaml 30-route.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: backend-v2-only, namespace: demo}
spec:
  parentRefs: [{name: backend, port: 8080}]
  rules: [{backendRefs: [{name: backend-v2, port: 8080}]}]
YAML
mesh_requests frontend-0 1 "$MESH_BACKEND_URL/" >/dev/null
mesh_wait_until "the frontend's proxy has the route" 5 \
  mesh_config_has frontend-0 '"backend-v2\.demo\.svc\.cluster\.local:8080"'

mesh_operator_stop KILL
mesh_log "operator killed"
sleep 3
mesh_expect "the operator is really gone" \
  bash -c "! ip netns exec $(weft_netns_name hub) curl -s --max-time 1 http://$MESH_OPERATOR_ADMIN/healthz"
out=$(mesh_requests frontend-0 100 "$MESH_BACKEND_URL/")
mesh_expect "100 requests all still go to backend-v2-0" \
  test "$(mesh_count 200 backend-v2-0 <<<"$out")" -eq 100
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  # Each curl a new client connection; backend-v2-0's proxy keeps its config too.
  b=$(mesh_exec frontend-0 curl -s -o /dev/null --max-time 2 -w '%header{x-backend}' \
    "$MESH_BACKEND_URL/?new=$i" || true)
  [[ $b == backend-v2-0 ]] && ok=$((ok + 1))
done
mesh_expect "new connections are served the same way ($ok of 10)" test "$ok" -eq 10
for p in frontend-0 backend-v2-0; do
  mesh_expect "$p's proxy is still ready" mesh_admin "$p" /ready
done
peer=$(mesh_metric backend-v2-0 weft_inbound_requests_by_peer_total \
  'peer="spiffe://cluster.local/ns/demo/sa/frontend"')
mesh_expect "over mTLS all along ($peer requests from the frontend's identity)" test "$peer" -ge 111

mesh_operator_start
mesh_delete 30-route.yaml
mesh_wait_until "the frontend's proxy drops the route from the restarted operator" 10 \
  mesh_config_lacks frontend-0 '"backend-v2\.demo\.svc\.cluster\.local:8080"'
out=$(MESH_PARALLEL=4 mesh_requests frontend-0 60 "$MESH_BACKEND_URL/")
mesh_expect "requests spread over v1 again" \
  test "$(mesh_count 200 <<<"$out")" -eq 60 -a "$(mesh_count 200 backend-v2-0 <<<"$out")" -lt 60
