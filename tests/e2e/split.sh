#!/usr/bin/env bash
# e2e: a weighted split. With the 90/10 canary TrafficRoute, 1000 requests
# to `backend` go to v2 about 100 times: within 4 standard deviations of the
# binomial (100 +- 38), which a wrong split (or none: 333) misses.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up split
mesh_sample_pods
mesh_apply "$MESH_FIXTURES/route-canary-90-10.yaml"
# The frontend's proxy subscribes to `backend` with its first request.
mesh_requests frontend-0 1 "$MESH_BACKEND_URL/" >/dev/null
mesh_wait_until "the frontend's proxy has the canary route" 5 \
  mesh_config_has frontend-0 '"backend-v2\.demo\.svc\.cluster\.local:8080"'

n=1000
out=$(mesh_requests frontend-0 "$n" "$MESH_BACKEND_URL/")
v2=$(mesh_count 200 backend-v2-0 <<<"$out")
v1=$(($(mesh_count 200 backend-v1-0 <<<"$out") + $(mesh_count 200 backend-v1-flaky <<<"$out")))
mesh_log "of $n: v1 $v1, v2 $v2"
mesh_expect "every request went to v1 or v2 and succeeded ($((v1 + v2)) of $n)" \
  test $((v1 + v2)) -eq "$n"
# mean n*p = 100, sd = sqrt(n*p*(1-p)) = 9.5
mesh_expect "v2 got 10 % within tolerance (62 <= $v2 <= 138)" test "$v2" -ge 62 -a "$v2" -le 138
