#!/usr/bin/env bash
# e2e: STRICT refuses plaintext. Under PERMISSIVE a pod outside the mesh can
# call a backend in plaintext; once the Mesh says STRICT, the backend's proxy
# refuses it (403, weft-error plaintext_refused, the app never sees it) except
# for the kubelet's probe path, while the frontend's mTLS calls go on.
set -euo pipefail
# shellcheck source=tests/e2e/lib/mesh.sh
source "$(dirname "$0")/lib/mesh.sh"

mesh_up strict
mesh_sample_pods
mesh_plain_pod outsider 30
backend="http://$(mesh_ip backend-v1-0):8080"
app_requests() { mesh_metric backend-v1-0 weft_requests_total 'direction="inbound"' 'code="200"'; }

out=$(mesh_requests outsider 5 "$backend/")
mesh_expect "PERMISSIVE: plaintext from outside the mesh is served" \
  test "$(mesh_count 200 backend-v1-0 <<<"$out")" -eq 5

sed 's/mode: PERMISSIVE/mode: STRICT/' "$MESH_FIXTURES/00-mesh.yaml" | mesh_apply_yaml 00-mesh.yaml
for b in backend-v1-0 backend-v1-flaky backend-v2-0; do
  mesh_wait_until "$b's proxy is STRICT" 5 mesh_config_has "$b" '"mtls": *"STRICT"'
done

served=$(app_requests)
out=$(mesh_exec outsider curl -s -o /dev/null --max-time 5 \
  -w '%{http_code} %header{weft-error}\n' "$backend/?i=[1-5]" || true)
mesh_expect "STRICT: plaintext is refused with 403 plaintext_refused" \
  test "$(grep -c '^403 plaintext_refused$' <<<"$out")" -eq 5
mesh_expect "and none of it reached the app" test "$(app_requests)" -eq "$served"
out=$(mesh_requests outsider 3 "$backend/healthz")
mesh_expect "STRICT: the kubelet's probe path still passes in plaintext" \
  test "$(mesh_count 200 backend-v1-0 <<<"$out")" -eq 3
out=$(mesh_requests frontend-0 50 "$MESH_BACKEND_URL/")
mesh_expect "STRICT: the frontend's mTLS requests are served" test "$(mesh_count 200 <<<"$out")" -eq 50
refused=$(mesh_metric backend-v1-0 weft_proxy_errors_total 'reason="plaintext_refused"')
mesh_expect "the proxy counted the refusals ($refused)" test "$refused" -eq 5
