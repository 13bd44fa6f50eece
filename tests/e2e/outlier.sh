#!/usr/bin/env bash
# e2e: outlier ejection and return. backend-v1-flaky answers every request
# with 503: after 3 in a row the frontend's proxy ejects it (its requests are
# retried on backend-v1-0, so clients see no failure), and while ejected it
# gets no request at all. Healed, it returns after the 3 s ejection: one
# probe, then its half of the traffic.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up outlier
mesh_pod frontend-0 10 frontend
mesh_pod backend-v1-0 11 backend --latency-ms 2
mesh_pod backend-v1-flaky 12 backend --latency-ms 2 --error-rate 1
mesh_apply_yaml 30-outlier.yaml <<'YAML'
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata:
  name: backend-v1-outliers
  namespace: demo
spec:
  targetRef: {kind: Service, name: backend-v1}
  # Round robin: the flaky instance gets every other request until ejected,
  # however the latency-based default would rank it.
  loadBalancer: {type: RoundRobin}
  outlierDetection:
    consecutiveFailures: 3
    baseEjection: 3s
YAML
url="$MESH_BACKEND_V1_URL/"
flaky() { mesh_metric backend-v1-flaky weft_requests_total 'direction="inbound"'; }
ejections() {
  mesh_metric frontend-0 weft_outlier_ejections_total 'destination="backend-v1.demo.svc.cluster.local:8080"'
}
mesh_requests frontend-0 1 "$url" >/dev/null
mesh_wait_until "the frontend's proxy has the policy" 5 \
  mesh_config_has frontend-0 '"baseEjection": *"3s"'

# Until ejected, the flaky instance fails requests; retries hide that.
out=$(mesh_requests frontend-0 30 "$url")
ejected_at=$(mesh_now_ms)
mesh_expect "every request succeeded despite the flaky instance" test "$(mesh_count 200 <<<"$out")" -eq 30
mesh_expect "the frontend's proxy ejected it ($(ejections) ejections)" test "$(ejections)" -ge 1
failed=$(mesh_metric backend-v1-flaky weft_requests_total 'direction="inbound"' 'code="503"')
mesh_expect "it failed a few requests first ($failed)" test "$failed" -ge 3

# While ejected it gets nothing.
before=$(flaky)
out=$(mesh_requests frontend-0 50 "$url")
mesh_expect "while ejected, every request is answered by backend-v1-0" \
  test "$(mesh_count 200 backend-v1-0 <<<"$out")" -eq 50
elapsed=$(($(mesh_now_ms) - ejected_at))
mesh_expect "this was within the ejection (${elapsed} ms < 3000)" test "$elapsed" -lt 3000
mesh_expect "the ejected instance got no request" test "$(flaky)" -eq "$before"

# Healed, it comes back once the ejection is over.
mesh_app_kill backend-v1-flaky
mesh_app_start backend-v1-flaky --latency-ms 2
wait_ms=$((3500 - ($(mesh_now_ms) - ejected_at)))
((wait_ms > 0)) && sleep "$(awk -v ms="$wait_ms" 'BEGIN { print ms / 1000 }')"
before=$(flaky)
mesh_load_start frontend-0 2 4 "$url"
mesh_load_wait
mesh_expect "no request failed" test "$MESH_LOAD_NON2XX" -eq 0 -a "$MESH_LOAD_ERRORS" -eq 0
back=$(($(flaky) - before))
mesh_expect "the healed instance took its half again ($back of $MESH_LOAD_REQUESTS, >= 40 %)" \
  test $((back * 100)) -ge $((MESH_LOAD_REQUESTS * 40))
