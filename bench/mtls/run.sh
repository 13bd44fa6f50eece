#!/usr/bin/env bash
# mTLS benchmark, two parts in one run:
# 1. keep-alive: wrk through client -> outbound proxy -> inbound proxy ->
#    backend, for (a) two weft-proxy in plaintext, (b) two weft-proxy with
#    mTLS (certified by a real weft-operator in dir: mode) and (c) two HAProxy
#    with TLS (client certificates verified) between them;
# 2. a new connection per request (wrk with Connection: close): one HAProxy,
#    as the client, opens a new connection for every request, with a full
#    handshake (no resumption), to (a) the weft inbound proxy in plaintext,
#    (b) the weft inbound proxy with mTLS (a workload certificate from the
#    operator's issuer, ALPN weft/http1) and (c) the HAProxy TLS server.
#    weft's outbound proxy always pools its upstream connections, hence the
#    same HAProxy client for both.
# Prints req/s, p50/p99, CPU seconds and TLS handshakes per second.
#
#   bench/mtls/run.sh [-d SECONDS] [-c CONNECTIONS] [-w WORKERS] [-t WRK_THREADS]
#
# Needs wrk, haproxy, openssl and a build with weft-proxy, weft-operator and
# weft-test-backend (WEFT_BUILD_DIR, default build/).
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
bench_options 20 "$@"
OPERATOR_BIN=$BUILD/operator/weft-operator
for b in "$PROXY_BIN" "$OPERATOR_BIN" "$BACKEND_BIN"; do
  [[ -x $b ]] || { echo "bench: $b missing; build first (scripts/build.sh)" >&2; exit 1; }
done
for t in wrk haproxy openssl; do
  command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "bench: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

TMP=$(mktemp -d /tmp/weft-bench-mtls-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# Sum of weft_tls_handshakes_total{direction="inbound",result="ok"} on an admin port.
handshakes() {
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk '/^weft_tls_handshakes_total\{/ && /inbound/ && /result="ok"/ { s += $NF } END { printf "%d", s }'
}
# Connections the HAProxy TLS server accepted (each a full handshake: no resumption).
haproxy_accepted() {
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk '/^haproxy_frontend_connections_total\{proxy="fe"\}/ { printf "%d", $NF }'
}
# TLS handshakes so far, by SOURCE: weft:ADMIN_PORT, haproxy:STATS_PORT or - (none).
handshakes_of() {
  case $1 in
    weft:*) handshakes "${1#weft:}" ;;
    haproxy:*) haproxy_accepted "${1#haproxy:}" ;;
    *) echo 0 ;;
  esac
}
wait_ready() {
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: proxy on admin port $1 never ready" >&2
  return 1
}

cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA

BACKEND_PORT=$(free_port)
"$BACKEND_BIN" --port "$BACKEND_PORT" --name bench --threads "$WORKERS" >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND_PORT"

HOST=backend.bench.svc.cluster.local:8080
TICKS=$(getconf CLK_TCK)
declare -A RPS P50 P99 CPU ERR HS
WRK_EXTRA=()  # (-H "Connection: close") in part 2

# run NAME PORT HANDSHAKES PID...: warm up, then measure; HANDSHAKES as for handshakes_of.
run() {
  local name=$1 port=$2 hs_source=$3
  shift 3
  local pids=("$@")
  wait_port "$port"
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -H "Host: $HOST" "${WRK_EXTRA[@]}" \
    "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
  local cpu0 hs0 out cpu1 hs1
  cpu0=$(cpu_of "${pids[@]}")
  hs0=$(handshakes_of "$hs_source")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Host: $HOST" "${WRK_EXTRA[@]}" \
    -s "$TMP/report.lua" "http://127.0.0.1:$port/" 2>&1)
  cpu1=$(cpu_of "${pids[@]}")
  hs1=$(handshakes_of "$hs_source")
  read -r _ rps p50 p99 errs status <<<"$(grep '^RESULT' <<<"$out")"
  RPS[$name]=$rps
  P50[$name]=$p50
  P99[$name]=$p99
  ERR[$name]=$((errs + status))
  CPU[$name]=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN { printf "%.2f", (b - a) / t }')
  HS[$name]=-
  if [[ $hs_source != - ]]; then
    HS[$name]=$(awk -v a="$hs0" -v b="$hs1" -v d="$DURATION" 'BEGIN { printf "%.1f", (b - a) / d }')
  fi
}

# A CA and certificates: the operator's serving certificate, and the two HAProxy.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
for n in control client server; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
    -keyout "$TMP/$n.key" -out "$TMP/$n.csr" 2>/dev/null
  openssl x509 -req -in "$TMP/$n.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
    -days 1 -extfile <(echo "subjectAltName=IP:127.0.0.1") -out "$TMP/$n.pem" 2>/dev/null
  cat "$TMP/$n.pem" "$TMP/$n.key" >"$TMP/$n.bundle"
done

# The operator, with a tokens file and the server pod behind the inbound port.
INBOUND_PORT=$(free_port)
DISCOVERY_PORT=$(free_port)
mkdir -p "$TMP/mesh"
printf 'tokens:\n  t-client: bench/client\n  t-server: bench/server\n' >"$TMP/mesh/identity-tokens.yaml"
echo t-client >"$TMP/client-token"
echo t-server >"$TMP/server-token"
cat >"$TMP/mesh/mesh.yaml" <<CFG
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: bench}
spec:
  clusterIP: 198.51.100.20
  selector: {app: backend}
  ports: [{name: http, port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata:
  name: server-0
  namespace: bench
  labels: {app: backend}
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: server
  containers: [{name: app, image: app, ports: [{name: http, containerPort: $BACKEND_PORT}]}]
status: {podIP: 127.0.0.1}
---
apiVersion: v1
kind: Pod
metadata:
  name: client-0
  namespace: bench
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: client
  containers: [{name: app, image: app}]
status: {podIP: 127.0.0.2}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: bench
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: $INBOUND_PORT, protocol: TCP}]
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: true}
    targetRef: {kind: Pod, name: server-0, namespace: bench}
CFG
"$OPERATOR_BIN" --source "dir:$TMP/mesh" --issuer-dir "$TMP/issuer" \
  --discovery-listen "127.0.0.1:$DISCOVERY_PORT" \
  --admin-listen "127.0.0.1:$(free_port)" --tls-cert "$TMP/control.pem" --tls-key "$TMP/control.key" \
  --discovery-client-auth optional >"$TMP/operator.log" 2>&1 &  # the plaintext pair has no identity
PIDS+=($!)
wait_port "$DISCOVERY_PORT"
for _ in $(seq 1 100); do [[ -s $TMP/issuer/tls.crt ]] && break; sleep 0.1; done

# Part 2's mTLS client holds a workload certificate from the mesh issuer, as
# a weft proxy would; HAProxy's crt: leaf, issuer, key.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-client \
  -addext "subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/client" \
  -keyout "$TMP/mesh-client.key" -out "$TMP/mesh-client.csr" 2>/dev/null
openssl x509 -req -in "$TMP/mesh-client.csr" -CA "$TMP/issuer/tls.crt" -CAkey "$TMP/issuer/tls.key" \
  -CAcreateserial -copy_extensions copy -days 1 -out "$TMP/mesh-client.pem" 2>/dev/null
cat "$TMP/mesh-client.pem" "$TMP/issuer/tls.crt" "$TMP/mesh-client.key" >"$TMP/mesh-client.bundle"

# Part 2's client: a new server connection, with a full TLS handshake, per request.
HA_WEFT_PLAIN=$(free_port)
HA_WEFT_MTLS=$(free_port)
HA_TO_TLS=$(free_port)
HA_TLS=$(free_port)
cat >"$TMP/haproxy-closer.cfg" <<CFG
global
  nbthread $WORKERS
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  option httpclose
  http-reuse never
frontend weft_plain
  bind 127.0.0.1:$HA_WEFT_PLAIN
  default_backend weft_plain
frontend weft_mtls
  bind 127.0.0.1:$HA_WEFT_MTLS
  default_backend weft_mtls
frontend haproxy_tls
  bind 127.0.0.1:$HA_TO_TLS
  default_backend haproxy_tls
backend weft_plain
  server s1 127.0.0.1:$INBOUND_PORT
backend weft_mtls
  server s1 127.0.0.1:$INBOUND_PORT ssl verify required ca-file $TMP/issuer/ca.crt crt $TMP/mesh-client.bundle ssl-min-ver TLSv1.3 alpn weft/http1 no-ssl-reuse
backend haproxy_tls
  server s1 127.0.0.1:$HA_TLS ssl verify required ca-file $TMP/ca.pem crt $TMP/client.bundle ssl-min-ver TLSv1.3 alpn http/1.1 no-ssl-reuse
CFG
"$HAPROXY" -f "$TMP/haproxy-closer.cfg" -db >"$TMP/haproxy-closer.log" 2>&1 &
PIDS+=($!)

# pair NAME WITH_IDENTITY: both weft proxies, measured together.
pair() {
  local name=$1 identity=$2 out_port admin_s admin_c
  out_port=$(free_port)
  admin_s=$(free_port)
  admin_c=$(free_port)
  local common=(--control-plane "127.0.0.1:$DISCOVERY_PORT" --control-plane-ca "$TMP/ca.pem"
    --workers "$WORKERS" --log-level warn --inbound-app-port "$BACKEND_PORT")
  local id_s=() id_c=()
  if [[ $identity == yes ]]; then
    id_s=(--identity-token-file "$TMP/server-token")
    id_c=(--identity-token-file "$TMP/client-token")
  fi
  POD_NAMESPACE=bench POD_NAME=server-0 SERVICE_ACCOUNT=server "$PROXY_BIN" "${common[@]}" "${id_s[@]}" \
    --outbound-listen 127.0.0.1:0 --inbound-listen "127.0.0.1:$INBOUND_PORT" \
    --admin-listen "127.0.0.1:$admin_s" >"$TMP/$name-server.log" 2>&1 &
  local s_pid=$!
  POD_NAMESPACE=bench POD_NAME=client-0 SERVICE_ACCOUNT=client "$PROXY_BIN" "${common[@]}" "${id_c[@]}" \
    --outbound-listen "127.0.0.1:$out_port" --inbound-listen 127.0.0.1:0 \
    --admin-listen "127.0.0.1:$admin_c" >"$TMP/$name-client.log" 2>&1 &
  local c_pid=$!
  PIDS+=("$s_pid" "$c_pid")
  wait_ready "$admin_s"
  wait_ready "$admin_c"
  run "$name" "$out_port" "weft:$admin_s" "$s_pid" "$c_pid"
  # Keep-alive pools make few handshakes; none at all would mean no mTLS.
  if [[ $identity == yes && $(handshakes "$admin_s") == 0 ]]; then
    echo "bench: $name made no mTLS handshake (see $name-*.log)" >&2
    exit 1
  fi
  if [[ $identity == yes ]]; then
    # Part 2 against this inbound proxy (PERMISSIVE: plaintext and mTLS); its CPU only.
    WRK_EXTRA=(-H "Connection: close")
    run weft-plain/close "$HA_WEFT_PLAIN" - "$s_pid"
    run weft-mtls/close "$HA_WEFT_MTLS" "weft:$admin_s" "$s_pid"
    WRK_EXTRA=()
  fi
  kill "$s_pid" "$c_pid"
  wait "$s_pid" "$c_pid" 2>/dev/null || true
}

pair weft-plain no
pair weft-mtls yes

# HAProxy pair: plaintext in, TLS 1.3 with client certificates between them.
HA_IN=$(free_port)
HA_ADMIN=$(free_port)
cat >"$TMP/haproxy-client.cfg" <<CFG
global
  nbthread $WORKERS
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HA_IN
  default_backend be
backend be
  server s1 127.0.0.1:$HA_TLS ssl verify required ca-file $TMP/ca.pem crt $TMP/client.bundle ssl-min-ver TLSv1.3 alpn http/1.1
CFG
cat >"$TMP/haproxy-server.cfg" <<CFG
global
  nbthread $WORKERS
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HA_TLS ssl crt $TMP/server.bundle ca-file $TMP/ca.pem verify required ssl-min-ver TLSv1.3 alpn http/1.1
  default_backend be
frontend stats
  bind 127.0.0.1:$HA_ADMIN
  http-request use-service prometheus-exporter if { path /metrics }
backend be
  server s1 127.0.0.1:$BACKEND_PORT
CFG
"$HAPROXY" -f "$TMP/haproxy-server.cfg" -db >"$TMP/haproxy-server.log" 2>&1 &
HS_PID=$!
"$HAPROXY" -f "$TMP/haproxy-client.cfg" -db >"$TMP/haproxy-client.log" 2>&1 &
HC_PID=$!
PIDS+=("$HS_PID" "$HC_PID")
wait_port "$HA_TLS"
run haproxy-tls "$HA_IN" "haproxy:$HA_ADMIN" "$HS_PID" "$HC_PID"
WRK_EXTRA=(-H "Connection: close")
run haproxy-tls/close "$HA_TO_TLS" "haproxy:$HA_ADMIN" "$HS_PID"
WRK_EXTRA=()

# table TITLE SUFFIX: one part's rows (keys NAME SUFFIX).
table() {
  echo
  echo "$1"
  printf "%-12s %10s %9s %9s %8s %8s %11s %9s\n" target req/s p50_us p99_us cpu_s errors handshake/s vs_plain
  local n
  for n in weft-plain weft-mtls haproxy-tls; do
    awk -v n="$n" -v r="${RPS[$n$2]}" -v a="${P50[$n$2]}" -v b="${P99[$n$2]}" -v cpu="${CPU[$n$2]}" \
      -v e="${ERR[$n$2]}" -v h="${HS[$n$2]}" -v p="${RPS[weft-plain$2]}" 'BEGIN {
        printf "%-12s %10.0f %9d %9d %8s %8d %11s %9.2f\n", n, r, a, b, cpu, e, h, r / p }'
  done
}
echo
echo "mTLS benchmark: $WORKERS worker(s) per proxy, $CONNS connections, wrk -t$WRK_THREADS, ${DURATION}s each, $(nproc) cores"
table "1. keep-alive: client -> outbound proxy -> inbound proxy -> backend" ""
echo "cpu_s: both proxies; handshake/s: accepted by the inbound side (connections are pooled)"
table "2. new connection per request (Connection: close): HAProxy client -> server side -> backend" "/close"
echo "cpu_s: the server side only (weft inbound proxy, HAProxy TLS server); handshake/s: full"
echo "handshakes it accepted (mTLS rows); the HAProxy client makes the same TLS client work for both"
