#!/usr/bin/env bash
# Per-request cost of weft-proxy, HAProxy and nginx, side by side: user-space
# instructions (valgrind callgrind) and system calls (strace -c) per proxied
# request, with the same backend, one worker each and keep-alive on both
# sides. Unlike req/s these counts do not move with machine load, so they
# compare the proxies' work even on a busy 2-core machine.
#
#   bench/proxy/cost.sh [-d SECONDS]
#
# Needs valgrind, strace, wrk, haproxy and nginx (scripts/install-deps.sh)
# and a build with weft-proxy and weft-test-backend (WEFT_BUILD_DIR, default build/).
set -euo pipefail

DURATION=5
while getopts "d:" o; do
  case "$o" in
    d) DURATION=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${WEFT_BUILD_DIR:-$ROOT/build}
PROXY_BIN=$BUILD/proxy/weft-proxy
BACKEND_BIN=$BUILD/tests/support/weft-test-backend
for b in "$PROXY_BIN" "$BACKEND_BIN"; do
  [[ -x $b ]] || { echo "cost: $b missing; build first (scripts/build.sh)" >&2; exit 1; }
done
for t in valgrind strace wrk; do
  command -v "$t" >/dev/null || { echo "cost: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TMP=$(mktemp -d /tmp/weft-cost-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

. "$(dirname "$0")/../lib.sh"

HOST=backend.bench:8080
BACKEND_PORT=$(free_port)
"$BACKEND_BIN" --port "$BACKEND_PORT" --name bench --threads 1 >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND_PORT"

PORT=$(free_port)
cat >"$TMP/weft.yaml" <<YAML
kind: Outbound
version: "1"
authority: $HOST
backends:
  $HOST:
    endpoints: [{address: "127.0.0.1:$BACKEND_PORT"}]
YAML
cat >"$TMP/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$PORT
  default_backend be
backend be
  server s1 127.0.0.1:$BACKEND_PORT
CFG
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CFG
worker_processes 1;
master_process off;
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
    listen 127.0.0.1:$PORT;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
CFG

command_of() {
  case "$1" in
    weft) echo "$PROXY_BIN --config $TMP/weft.yaml --workers 1 --outbound-listen 127.0.0.1:$PORT --inbound-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0" ;;
    haproxy) echo "$HAPROXY -f $TMP/haproxy.cfg -db" ;;
    nginx) echo "$NGINX -c $TMP/nginx.conf -p $TMP/nginx" ;;
  esac
}

load() {
  wrk -t1 -c20 -d"$1" -H "Host: $HOST" "http://127.0.0.1:$PORT/" | awk '/requests in/ {print $1}'
}

declare -A IR SYS
for name in weft haproxy nginx; do
  # Instructions: the whole process under callgrind; startup is amortised
  # over the run and is the same order for all three.
  # shellcheck disable=SC2046
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$name.%p" $(command_of "$name") \
    >"$TMP/cg.$name.log" 2>&1 &
  pid=$!
  wait_port "$PORT"
  requests=$(load "$DURATION")
  # TERM: every one of them exits on it, and valgrind still writes its counts.
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  ir=$(cat "$TMP"/cg."$name".* 2>/dev/null | awk '/^summary:/ {s += $2} END {print s + 0}')
  IR[$name]=$((ir / requests))

  # System calls: strace -c on the running process, warmed up first.
  # shellcheck disable=SC2046
  $(command_of "$name") >"$TMP/$name.log" 2>&1 &
  pid=$!
  wait_port "$PORT"
  load 1 >/dev/null
  strace -c -f -p "$pid" -o "$TMP/strace.$name" 2>/dev/null &
  st=$!
  sleep 0.5
  requests=$(load "$DURATION")
  kill -INT "$st"
  wait "$st" 2>/dev/null || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  calls=$(awk '$NF == "total" {print $4}' "$TMP/strace.$name")
  SYS[$name]=$(awk -v c="$calls" -v r="$requests" 'BEGIN { printf "%.2f", c / r }')
done

echo
echo "per-request cost, 1 worker, keep-alive both sides, ${DURATION}s per measurement"
printf "%-8s %14s %12s %16s\n" target instructions syscalls instr_vs_haproxy
for name in weft haproxy nginx; do
  printf "%-8s %14s %12s %16s\n" "$name" "${IR[$name]}" "${SYS[$name]}" \
    "$(awk -v a="${IR[$name]}" -v b="${IR[haproxy]}" 'BEGIN { printf "%.2f", a / b }')"
done
