#!/usr/bin/env bash
# e2e: an instance dies under load and no idempotent request fails. A load
# of GETs runs through the frontend's proxy while, one after the other, the
# app of backend-v1-flaky crashes (its proxy lives on and answers that it
# cannot reach the app), and then all of backend-v2-0 dies (app and proxy).
# Both stay in the EndpointSlice, as they would until Kubernetes notices:
# only the proxy's retries and balancing keep the requests whole.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up failover
mesh_sample_pods --latency-ms 2

mesh_load_start frontend-0 5 4 "$MESH_BACKEND_URL/"
sleep 1.5
mesh_log "the app of backend-v1-flaky crashes"
mesh_app_kill backend-v1-flaky
sleep 1.5
mesh_log "backend-v2-0 dies, app and proxy"
mesh_app_kill backend-v2-0
mesh_proxy_kill backend-v2-0
mesh_load_wait

mesh_expect "the load ran ($MESH_LOAD_REQUESTS requests)" test "$MESH_LOAD_REQUESTS" -ge 500
mesh_expect "no request failed ($MESH_LOAD_NON2XX non-2xx, $MESH_LOAD_ERRORS socket errors)" \
  test "$MESH_LOAD_NON2XX" -eq 0 -a "$MESH_LOAD_ERRORS" -eq 0
failed=$(mesh_failed_outbound frontend-0)
mesh_expect "nor did the frontend's proxy count a failure ($failed)" test "$failed" -eq 0
# The deaths were real and the proxies saw them: the crashed app's proxy
# could not reach it, and the frontend's proxy retried elsewhere.
refused=$(mesh_metric backend-v1-flaky weft_proxy_errors_total 'reason="connect_refused"')
mesh_expect "the flaky pod's proxy found its app gone ($refused times)" test "$refused" -ge 1
retries=$(mesh_metric frontend-0 weft_retries_total)
mesh_expect "the frontend's proxy retried ($retries times)" test "$retries" -ge 1
out=$(mesh_requests frontend-0 50 "$MESH_BACKEND_URL/")
mesh_expect "afterwards every request is answered by backend-v1-0" \
  test "$(mesh_count 200 backend-v1-0 <<<"$out")" -eq 50
