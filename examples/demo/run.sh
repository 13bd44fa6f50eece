#!/usr/bin/env bash
# The local mesh demo, loopback stage: the real weft-operator in dir: mode on
# examples/demo/, real sample backends, and a real weft-proxy that takes its
# configuration from the operator's discovery stream. Pod addresses
# 192.0.2.x become loopback aliases 127.0.2.x until the network-namespace
# stage (iptables redirect, mTLS) lands. Every load is bounded; Ctrl-C or the
# end stops every process and removes the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${WEFT_BUILD_DIR:-build}
AUTHORITY=backend.demo.svc.cluster.local:8080
DISCOVERY=127.0.0.1:18443
OP_ADMIN=127.0.0.1:19990
PROXY_OUT=127.0.0.1:25101
PROXY_ADMIN=127.0.0.1:25100

for b in operator/weft-operator proxy/weft-proxy tests/support/weft-test-backend; do
  [[ -x $BIN/$b ]] || { echo "demo: $BIN/$b is missing; run ./scripts/demo.sh (it builds first)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/weft-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
start() { # start NAME CMD...: runs CMD in the background, logging to $work/NAME.log
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}
wait_http() { # wait_http URL: up to 10 s
  for _ in $(seq 1 100); do
    curl -fs --max-time 1 "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "demo: $1 did not answer; logs in $work" >&2
  return 1
}
# traffic N: N sequential requests through the proxy; prints the tally by
# answering backend (or status) and the success rate.
traffic() {
  local n=$1 ok=0
  : >"$work/tally"
  for _ in $(seq 1 "$n"); do
    local line
    line=$(curl -s --max-time 2 -o /dev/null -D - -H "Host: $AUTHORITY" "http://$PROXY_OUT/hello" |
      tr -d '\r' | awk 'NR==1{code=$2} tolower($1)=="x-backend:"{b=$2} END{print code, b}')
    echo "$line" >>"$work/tally"
    [[ $line == 200* ]] && ok=$((ok + 1))
  done
  sort "$work/tally" | uniq -c | awk '{printf "   %5d  HTTP %s  %s\n", $1, $2, ($3 == "" ? "(proxy answered)" : "from " $3)}'
  echo "   success rate: $((100 * ok / n))% of $n requests"
}

step "1. The control plane: weft-operator --source dir: on examples/demo/"
mkdir -p "$work/mesh"
cp examples/demo/*.yaml "$work/mesh/"
sed -i 's/192\.0\.2\./127.0.2./g' "$work/mesh/"*.yaml
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=weft-demo \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
# The loopback stage's proxy has no identity: let it subscribe without a certificate.
start operator "$BIN/operator/weft-operator" --source "dir:$work/mesh" --discovery-listen "$DISCOVERY" \
  --admin-listen "$OP_ADMIN" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --discovery-client-auth optional
wait_http "http://$OP_ADMIN/readyz"
curl -s "http://$OP_ADMIN/status" | tr -d ' "' | awk -F: '
  $1=="kind" {kind=$2} $1=="name" && kind!="" {name=$2}
  $1=="reason" {printf "   %-14s %-18s %s\n", kind, name, $2; kind=""}' | sed 's/,$//; s/,//g'

step "2. Sample services: backend v1 (one healthy, one failing 30% of requests) and v2"
start backend-v1-0 "$BIN/tests/support/weft-test-backend" --listen 127.0.2.11 --port 8080 --name v1-0
start backend-v1-flaky "$BIN/tests/support/weft-test-backend" --listen 127.0.2.12 --port 8080 \
  --name v1-flaky --error-rate 0.3
start backend-v2-0 "$BIN/tests/support/weft-test-backend" --listen 127.0.2.13 --port 8080 --name v2-0
flaky_pid=${pids[2]}
for ip in 11 12 13; do wait_http "http://127.0.2.$ip:8080/"; done || true
echo "   backend-v1-0 127.0.2.11, backend-v1-flaky 127.0.2.12, backend-v2-0 127.0.2.13"

step "3. The sidecar: weft-proxy --control-plane $DISCOVERY (no config file)"
start proxy "$BIN/proxy/weft-proxy" --control-plane "$DISCOVERY" --control-plane-ca "$work/cert.pem" \
  --outbound-listen "$PROXY_OUT" --inbound-listen 127.0.0.1:25106 --admin-listen "$PROXY_ADMIN" --workers 2
wait_http "http://$PROXY_ADMIN/live"

step "4. A 90/10 canary (TrafficRoute backend-canary); the flaky instance's 503s are retried"
traffic 300

step "5. backend-v1-flaky dies: its requests go to the healthy instance, none fails"
kill "$flaky_pid"
traffic 200

step "6. Shift the canary to 50/50 by editing the YAML file"
sed -i 's/weight: 90/weight: 50/; s/weight: 10/weight: 50/' "$work/mesh/30-policy.yaml"
sleep 0.5
traffic 200

step "7. What the proxy counted (GET $PROXY_ADMIN/metrics)"
curl -s "http://$PROXY_ADMIN/metrics" | grep -E '^weft_(requests_total|retries_total|retry_budget_exhausted_total|outlier_ejections_total)' | grep -v ' 0$' | head -12 || true

echo
echo "demo: done. Next stages bring network namespaces, the iptables redirect and mTLS (see README)."
