#!/usr/bin/env bash
# e2e: timeouts. Without a policy a slow request (1 s) succeeds; once a
# TrafficPolicy sets a 300 ms request timeout for `backend`, the same request
# is cut off by the caller's proxy with a 504 that says why, in about 300 ms,
# while fast requests still succeed.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up timeout
mesh_sample_pods

# slow PATH: "STATUS SECONDS WEFT-ERROR" of one GET of PATH through the frontend's proxy.
slow() {
  mesh_exec frontend-0 curl -s -o /dev/null --max-time 5 \
    -w '%{http_code} %{time_total} %header{weft-error}\n' "$MESH_BACKEND_URL$1" || true
}

read -r code secs reason < <(slow /sleep/1000)
mesh_log "before: $code in ${secs}s ${reason}"
mesh_expect "without a policy the slow request succeeds" test "$code" = 200

mesh_apply_yaml 30-timeout.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata:
  name: backend-timeout
  namespace: demo
spec:
  targetRef: {kind: Service, name: backend}
  timeouts:
    request: 300ms
YAML
mesh_wait_until "the frontend's proxy has the 300 ms timeout" 5 \
  mesh_config_has frontend-0 '"request": *"300ms"'

read -r code secs reason < <(slow /sleep/1000)
mesh_log "after: $code in ${secs}s ${reason}"
mesh_expect "the slow request gets 504" test "$code" = 504
mesh_expect "with weft-error request_timeout" test "$reason" = request_timeout
ms=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }')
mesh_expect "after about 300 ms (${ms} ms)" test "$ms" -ge 280 -a "$ms" -lt 900
out=$(mesh_requests frontend-0 20 "$MESH_BACKEND_URL/sleep/20")
mesh_expect "requests faster than the timeout still succeed" test "$(mesh_count 200 <<<"$out")" -eq 20
