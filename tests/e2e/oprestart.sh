#!/usr/bin/env bash
# e2e: the operator restarts while traffic flows, and no request fails. A
# load runs from the frontend for 8 s; meanwhile the operator is stopped
# (SIGTERM) and started again, then killed (SIGKILL) and started again. The
# proxies keep serving from what they have and reconnect: afterwards a route
# change reaches them again.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up oprestart
mesh_sample_pods --latency-ms 2
mesh_requests frontend-0 1 "$MESH_BACKEND_URL/" >/dev/null

mesh_load_start frontend-0 8 4 "$MESH_BACKEND_URL/"
sleep 1
mesh_log "operator: SIGTERM"
mesh_operator_stop TERM
sleep 1
mesh_operator_start
mesh_log "operator: started again"
sleep 1.5
mesh_log "operator: SIGKILL"
mesh_operator_stop KILL
sleep 1
mesh_operator_start
mesh_log "operator: started again"
mesh_load_wait

mesh_expect "the load ran ($MESH_LOAD_REQUESTS requests)" test "$MESH_LOAD_REQUESTS" -ge 1000
mesh_expect "no request failed ($MESH_LOAD_NON2XX non-2xx, $MESH_LOAD_ERRORS socket errors)" \
  test "$MESH_LOAD_NON2XX" -eq 0 -a "$MESH_LOAD_ERRORS" -eq 0
failed=$(mesh_failed_outbound frontend-0)
mesh_expect "nor did the frontend's proxy count a failure ($failed)" test "$failed" -eq 0
starts=$(grep -c "weft-operator starting" "$MESH_WORK/logs/operator.log")
mesh_expect "the operator really started three times ($starts)" test "$starts" -eq 3
# 4 Inbound streams and the frontend's Outbound one for backend.
mesh_wait_until "every proxy stream reconnected to the new operator" 5 \
  test "$(mesh_operator_metric weft_operator_discovery_streams)" -ge 5

# The proxies found the new operator: a change made now reaches them.
mesh_apply_yaml 30-route.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: backend-v2-only, namespace: demo}
spec:
  parentRefs: [{name: backend, port: 8080}]
  rules: [{backendRefs: [{name: backend-v2, port: 8080}]}]
YAML
mesh_wait_until "the frontend's proxy has the new route" 5 \
  mesh_config_has frontend-0 '"backend-v2\.demo\.svc\.cluster\.local:8080"'
out=$(mesh_requests frontend-0 20 "$MESH_BACKEND_URL/")
mesh_expect "and routes by it" test "$(mesh_count 200 backend-v2-0 <<<"$out")" -eq 20
