#!/usr/bin/env bash
# e2e: circuit breaking. With maxRequests 3 for `backend`, 12 concurrent slow
# requests from the frontend get at most 3 through; the others are refused at
# once by the frontend's proxy (503, weft-error overloaded) instead of piling
# onto the backends. Once the burst is over, requests pass again.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up breaker
mesh_sample_pods
mesh_apply_yaml 30-breaker.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata:
  name: backend-breaker
  namespace: demo
spec:
  targetRef: {kind: Service, name: backend}
  circuitBreaker:
    maxRequests: 3
YAML
mesh_requests frontend-0 1 "$MESH_BACKEND_URL/" >/dev/null
mesh_wait_until "the frontend's proxy has the limit" 5 \
  mesh_config_has frontend-0 '"maxRequests": *3,?$'

# 12 at once, each on its own connection, each taking 800 ms at the app.
out=$(mesh_exec frontend-0 curl -s -o /dev/null --max-time 5 -Z --parallel-immediate --parallel-max 12 \
  -w '%{http_code} %header{weft-error} %{time_total}\n' "$MESH_BACKEND_URL/sleep/800?i=[1-12]" || true)
echo "$out" >&2
ok=$(awk '$1 == 200' <<<"$out" | wc -l)
refused=$(awk '$1 == 503 && $2 == "overloaded"' <<<"$out" | wc -l)
fast=$(awk '$1 == 503 && $3 < 0.5' <<<"$out" | wc -l)
mesh_log "of 12: $ok succeeded, $refused refused (overloaded), $fast of them at once"
mesh_expect "at most 3 got through, and some did ($ok)" test "$ok" -ge 1 -a "$ok" -le 3
mesh_expect "every other request was refused as overloaded" test $((ok + refused)) -eq 12
mesh_expect "refusals come at once, not after the app's 800 ms" test "$fast" -eq "$refused"
rejections=$(mesh_metric frontend-0 weft_circuit_breaker_rejections_total)
mesh_expect "the proxy counted the refusals ($rejections)" test "$rejections" -eq "$refused"
out=$(mesh_requests frontend-0 10 "$MESH_BACKEND_URL/")
mesh_expect "after the burst, requests pass again" test "$(mesh_count 200 <<<"$out")" -eq 10
