#!/usr/bin/env bash
# Proxy benchmark: wrk against (a) the backend directly, (b) HAProxy,
# (c) nginx and (d) weft-proxy, one after the other with the same backend,
# worker count and connections. Prints req/s, p50/p99/p99.9 latency, the
# proxy's CPU seconds and peak RSS, and ratios to direct and to HAProxy.
#
#   bench/proxy/run.sh [-d SECONDS] [-c CONNECTIONS] [-w WORKERS] [-t WRK_THREADS]
#
# Needs wrk, haproxy and nginx (scripts/install-deps.sh) and a build with
# weft-proxy and weft-test-backend (WEFT_BUILD_DIR, default build/).
set -euo pipefail

. "$(dirname "$0")/../lib.sh"
bench_options 11 "$@"
for b in "$PROXY_BIN" "$BACKEND_BIN"; do
  [[ -x $b ]] || { echo "bench: $b missing; build first (scripts/build.sh)" >&2; exit 1; }
done
for t in wrk haproxy nginx; do
  command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "bench: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TMP=$(mktemp -d /tmp/weft-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %d %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA

BACKEND_PORT=$(free_port)
"$BACKEND_BIN" --port "$BACKEND_PORT" --name bench --threads "$WORKERS" >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND_PORT"

HOST=backend.bench:8080
TICKS=$(getconf CLK_TCK)
declare -A RPS P50 P99 P999 CPU HWM IDLE ERR

# run NAME PORT PID...: warm up, then measure.
run() {
  local name=$1 port=$2
  shift 2
  local pids=("$@")
  wait_port "$port"
  IDLE[$name]=$(rss_kib "${pids[@]}")
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -H "Host: $HOST" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
  local cpu0
  cpu0=$(cpu_of "${pids[@]}")
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" -H "Host: $HOST" -s "$TMP/report.lua" \
    "http://127.0.0.1:$port/" 2>&1)
  local cpu1
  cpu1=$(cpu_of "${pids[@]}")
  read -r _ rps p50 p99 p999 errs status <<<"$(grep '^RESULT' <<<"$out")"
  RPS[$name]=$rps
  P50[$name]=$p50
  P99[$name]=$p99
  P999[$name]=$p999
  ERR[$name]=$((errs + status))
  CPU[$name]=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN { printf "%.2f", (b - a) / t }')
  HWM[$name]=$(hwm_kib "${pids[@]}")
}

# (a) direct
run direct "$BACKEND_PORT"

# (b) HAProxy
HA_PORT=$(free_port)
cat >"$TMP/haproxy.cfg" <<CFG
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
  bind 127.0.0.1:$HA_PORT
  default_backend be
backend be
  server s1 127.0.0.1:$BACKEND_PORT
CFG
"$HAPROXY" -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
HA_PID=$!
PIDS+=("$HA_PID")
run haproxy "$HA_PORT" "$HA_PID"
kill "$HA_PID"

# (c) nginx
NG_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CFG
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 4000; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx;
  proxy_temp_path $TMP/nginx;
  fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx;
  scgi_temp_path $TMP/nginx;
  upstream be { server 127.0.0.1:$BACKEND_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NG_PORT;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
CFG
"$NGINX" -c "$TMP/nginx.conf" -p "$TMP/nginx" >"$TMP/nginx.log" 2>&1 &
NG_PID=$!
PIDS+=("$NG_PID")
wait_port "$NG_PORT"
NG_ALL=("$NG_PID" $(pgrep -P "$NG_PID" || true))
run nginx "$NG_PORT" "${NG_ALL[@]}"
kill "$NG_PID"

# (d) weft-proxy
W_PORT=$(free_port)
cat >"$TMP/weft.yaml" <<CFG
kind: Outbound
version: "1"
authority: $HOST
backends:
  $HOST:
    endpoints:
      - address: 127.0.0.1:$BACKEND_PORT
CFG
"$PROXY_BIN" --config "$TMP/weft.yaml" --workers "$WORKERS" --outbound-listen "127.0.0.1:$W_PORT" \
  --inbound-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --log-level warn >"$TMP/weft.log" 2>&1 &
W_PID=$!
PIDS+=("$W_PID")
run weft "$W_PORT" "$W_PID"
kill "$W_PID"

echo
echo "weft-proxy benchmark: $WORKERS worker(s), $CONNS connections, wrk -t$WRK_THREADS, ${DURATION}s, $(nproc) cores"
printf "%-8s %10s %9s %9s %9s %8s %9s %9s %7s %9s %9s\n" target req/s p50_us p99_us p99.9_us cpu_s peak_MiB idle_MiB errors vs_direct vs_haproxy
for n in direct haproxy nginx weft; do
  awk -v n="$n" -v r="${RPS[$n]}" -v a="${P50[$n]}" -v b="${P99[$n]}" -v c="${P999[$n]}" \
    -v cpu="${CPU[$n]:-0}" -v h="${HWM[$n]:-0}" -v i="${IDLE[$n]:-0}" -v e="${ERR[$n]}" \
    -v d="${RPS[direct]}" -v ha="${RPS[haproxy]}" 'BEGIN {
      printf "%-8s %10.0f %9d %9d %9d %8s %9.1f %9.1f %7d %9.2f %9.2f\n",
        n, r, a, b, c, (n == "direct" ? "-" : cpu), h / 1024, i / 1024, e, r / d, r / ha }'
done
