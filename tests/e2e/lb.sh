#!/usr/bin/env bash
# e2e: discovery and load balancing. The frontend's app calls the Service
# `backend` by its ClusterIP; its proxy finds the three endpoints through the
# operator and spreads requests over all of them. An endpoint added to the
# Service later (a second EndpointSlice, as a scale-up makes) starts taking
# requests; once it is removed, it gets none.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up lb
# A little latency in every app, so that the balancer's view (requests
# outstanding, latency) has something to go by, as with real apps.
mesh_sample_pods --latency-ms 5
backends=(backend-v1-0 backend-v1-flaky backend-v2-0)

inbound() { mesh_metric "$1" weft_requests_total 'direction="inbound"'; }

# Every endpoint takes a fair share of a concurrent load.
mesh_load_start frontend-0 2 6 "$MESH_BACKEND_URL/"
mesh_load_wait
mesh_expect "every request of the load succeeded" \
  test "$MESH_LOAD_NON2XX" -eq 0 -a "$MESH_LOAD_ERRORS" -eq 0
declare -A served
total=0
for b in "${backends[@]}"; do
  served[$b]=$(inbound "$b")
  total=$((total + served[$b]))
done
mesh_log "served: v1-0 ${served[backend-v1-0]}, v1-flaky ${served[backend-v1-flaky]}, v2-0 ${served[backend-v2-0]}"
mesh_expect "the backends served every request ($total >= $MESH_LOAD_REQUESTS)" \
  test "$total" -ge "$MESH_LOAD_REQUESTS"
for b in "${backends[@]}"; do
  # An even split is 33 %; 20 % catches a balancer stuck on fewer endpoints.
  mesh_expect "$b served at least 20 % (${served[$b]} of $total)" \
    test $((served[$b] * 100)) -ge $((total * 20))
done

# Scale-up: backend-v1-1 appears in a second EndpointSlice of `backend`.
mesh_apply_yaml 25-backend-v1-1.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: backend-v1-1
  namespace: demo
  labels: {app: backend, version: v1}
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: backend
  containers: [{name: app, image: weft-test-backend, ports: [{name: http, containerPort: 8080}]}]
status: {podIP: 192.0.2.14}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-scaled
  namespace: demo
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - addresses: [192.0.2.14]
    conditions: {ready: true}
    targetRef: {kind: Pod, name: backend-v1-1, namespace: demo}
EOF
mesh_pod backend-v1-1 14 backend --latency-ms 5
mesh_wait_until "the frontend's proxy knows 192.0.2.14" 5 \
  mesh_config_has frontend-0 '"192\.0\.2\.14:8080"'
mesh_load_start frontend-0 2 6 "$MESH_BACKEND_URL/"
mesh_load_wait
mesh_expect "every request of the second load succeeded" \
  test "$MESH_LOAD_NON2XX" -eq 0 -a "$MESH_LOAD_ERRORS" -eq 0
new=$(inbound backend-v1-1)
mesh_log "backend-v1-1 served $new of $MESH_LOAD_REQUESTS"
# A new endpoint starts with a pessimistic latency estimate (30 ms), so it
# warms up rather than taking a full quarter at once.
mesh_expect "the new endpoint served at least 5 % ($new of $MESH_LOAD_REQUESTS)" \
  test $((new * 100)) -ge $((MESH_LOAD_REQUESTS * 5))

# Scale-down: the slice goes, and so does the endpoint's traffic.
mesh_delete 25-backend-v1-1.yaml
mesh_wait_until "the frontend's proxy forgot 192.0.2.14" 5 \
  mesh_config_lacks frontend-0 '"192\.0\.2\.14:8080"'
before=$(inbound backend-v1-1)
out=$(mesh_requests frontend-0 100 "$MESH_BACKEND_URL/")
mesh_expect "100 requests after the scale-down succeeded" test "$(mesh_count 200 <<<"$out")" -eq 100
mesh_expect "the removed endpoint got none of them" test "$(inbound backend-v1-1)" -eq "$before"
