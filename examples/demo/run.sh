#!/usr/bin/env bash
# Weft's quickstart demo: a whole mesh on this machine. The real weft-operator
# (`--source dir:` on a copy of examples/demo/) runs in a hub network
# namespace; every pod is a namespace of its own on a bridge of ours, with
# its app (weft-sample), the real `weft-proxy init` redirect and weft-proxy,
# as in Kubernetes. It walks through seven steps, each with bounded load and
# the live golden metrics of `weftctl stat`, and stops by itself; Ctrl-C
# stops it early. Either way every namespace and process it made is removed.
# Built on tests/e2e/lib/mesh.sh, the library of the end-to-end tests.
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$DEMO_DIR/../.." && pwd)

usage() {
  cat <<'EOF'
Usage: examples/demo/run.sh [--fast] [--no-color]

Runs the Weft demo mesh in network namespaces (needs root; ./scripts/demo.sh
installs, builds and runs it). About 2 minutes; Ctrl-C stops it and removes
everything it made.

  --fast       short steps (about 1 minute), e.g. for tests
  --no-color   plain text: no colours, one table per step instead of a live one
EOF
}

FAST=0
COLOR=1
while (($#)); do
  case $1 in
    --fast) FAST=1 ;;
    --no-color) COLOR=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "demo: unknown option '$1' (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

if [[ $(id -u) -ne 0 ]]; then
  cat >&2 <<'EOF'
demo: this needs root: it creates network namespaces, a bridge, veth pairs and
iptables rules (inside its own namespaces only; all removed when it ends).
Run it as root, for example:  sudo ./scripts/demo.sh
EOF
  exit 1
fi

BUILD=${WEFT_BUILD_DIR:-$ROOT/build}
export WEFT_PROXY=${WEFT_PROXY:-$BUILD/proxy/weft-proxy}
export WEFT_OPERATOR=${WEFT_OPERATOR:-$BUILD/operator/weft-operator}
export WEFT_SAMPLE=${WEFT_SAMPLE:-$BUILD/examples/sample/weft-sample}
WEFTCTL=${WEFTCTL:-$BUILD/cli/weftctl}
for b in "$WEFT_PROXY" "$WEFT_OPERATOR" "$WEFT_SAMPLE" "$WEFTCTL"; do
  if [[ ! -x $b ]]; then
    echo "demo: $b is missing: run ./scripts/demo.sh, which builds it first" >&2
    exit 1
  fi
done
probe="weft-probe-$$-netns"
if ! ip netns add "$probe" 2>/dev/null; then
  echo "demo: cannot create network namespaces here (ip netns add failed);" \
    "run it as root on a machine or VM, not in an unprivileged container" >&2
  exit 1
fi
ip netns del "$probe"

# The library starts each pod's app as $WEFT_TEST_BACKEND; ours is weft-sample.
export WEFT_TEST_BACKEND=$DEMO_DIR/pod-app.sh
if ((FAST)); then
  WINDOW=4 RATE=60 CANARY_WINDOW=5
  MESH_DEADLINE=${MESH_DEADLINE:-240}
else
  WINDOW=12 RATE=40 CANARY_WINDOW=12
  MESH_DEADLINE=${MESH_DEADLINE:-420}
fi
# shellcheck source=tests/e2e/lib/mesh.sh
source "$ROOT/tests/e2e/lib/mesh.sh"

# Live redraws only on a terminal that wants colour; otherwise one table per window.
LIVE=0
if ((COLOR)) && [[ -t 1 ]]; then
  LIVE=1
  BOLD=$'\e[1m' CYAN=$'\e[36m' GREEN=$'\e[32m' RED=$'\e[31m' YELLOW=$'\e[33m'
  OFF=$'\e[0m'
else
  BOLD='' CYAN='' GREEN='' RED='' YELLOW='' OFF=''
fi

FRONTEND_URL=http://198.51.100.10:8080/ # the Service's ClusterIP, as cluster DNS would answer
BACKEND_URL=http://198.51.100.20:8080/
STEPS=7
BACKEND_FLAGS=(--latency 10ms --latency-jitter 5ms)
STAT_ARGS=()
declare -A LOAD_PID=()
STARTED=$SECONDS

# --- output ---

step() {
  printf '\n%s%s== %s/%s  %s%s\n' "$BOLD" "$CYAN" "$1" "$STEPS" "$2" "$OFF"
}
say() { printf '   %s\n' "$*"; }
look() { printf '   %slook for:%s %s\n' "$YELLOW" "$OFF" "$*"; }

# --- loads and their numbers ---

# load_start NAME POD URL [weft-sample load flags...]: a bounded load from the
# pod's namespace (so through its proxy, when it has one), in the background.
load_start() {
  local name=$1 pod=$2 url=$3
  shift 3
  ip netns exec "$(weft_netns_name "$pod")" "$WEFT_SAMPLE" load --url "$url" --timeout 3s \
    --json "$@" >"$MESH_WORK/logs/$name.json" 2>"$MESH_WORK/logs/$name.err" &
  LOAD_PID[$name]=$!
}

# client_load NAME SECONDS: the client's steady open-loop load on frontend.
client_load() {
  load_start "$1" client-0 "$FRONTEND_URL" --rate "$RATE" --concurrency 16 --duration "$2s"
}

load_wait() {
  wait "${LOAD_PID[$1]}" ||
    mesh_fail "the load $1 failed: $(cat "$MESH_WORK/logs/$1.err" "$MESH_WORK/logs/$1.json")"
}

# json_num NAME KEY / json_map NAME KEY: a number, or "key value" lines of a
# flat object, from the load's one-line JSON summary.
json_num() {
  local v
  v=$(grep -oE "\"$2\":-?[0-9.]+(e[-+]?[0-9]+)?" "$MESH_WORK/logs/$1.json" | head -n1 | cut -d: -f2) || true
  echo "${v:-0}"
}
json_map() {
  { grep -oE "\"$2\":\{[^}]*\}" "$MESH_WORK/logs/$1.json" || true; } | head -n1 |
    sed -E "s/^\"$2\":\{//; s/\}$//" | tr ',' '\n' | sed -nE 's/^"([^"]*)":([0-9]+)$/\1 \2/p'
}

# report NAME LABEL: one line of numbers for the load NAME, and which backend
# version answered when frontend called backend.
report() {
  local name=$1 label=$2 n ok failed why
  n=$(json_num "$name" requests)
  ok=$(json_num "$name" ok)
  failed=$(json_num "$name" failed)
  why=$({
    json_map "$name" status | awk '$1 !~ /^2/ { printf "HTTP %s x%s, ", $1, $2 }'
    json_map "$name" errors | awk '{ printf "%s x%s, ", $1, $2 }'
  } | sed 's/, $//')
  awk -v l="$label" -v n="$n" -v ok="$ok" -v f="$failed" -v why="$why" \
    -v p50="$(json_num "$name" p50)" -v p99="$(json_num "$name" p99)" 'BEGIN {
      printf "   %s: %d requests, %d ok (%.1f%%), %d failed%s; p50 %.1f ms, p99 %.1f ms\n",
        l, n, ok, n ? 100 * ok / n : 0, f, why == "" ? "" : " (" why ")", p50, p99 }'
  json_map "$name" upstream_versions | sort | awk '
    { v[NR] = $1; c[NR] = $2; total += $2 }
    END {
      if (NR == 0) exit
      line = "      answered by backend"
      for (i = 1; i <= NR; i++)
        line = line sprintf("%s %s %d (%.1f%%)", i == 1 ? ":" : ",", v[i], c[i], 100 * c[i] / total)
      print line
    }'
}

# window SECONDS: weftctl stat from the hub on every proxy's admin port while
# the loads run: redrawn every second on a terminal, else one table.
window() {
  local secs=$1
  if ((LIVE)); then
    ip netns exec "$(weft_netns_name hub)" "$WEFTCTL" stat "${STAT_ARGS[@]}" --watch 1s \
      --count "$secs" &
  else
    ip netns exec "$(weft_netns_name hub)" "$WEFTCTL" stat "${STAT_ARGS[@]}" --watch "${secs}s" \
      --count 1 &
  fi
  STAT_PID=$!
}
window_wait() { wait "$STAT_PID" || mesh_fail "weftctl stat failed"; }

# --- the operator's files ---

# edit FILE SED-SCRIPT: edits the operator's copy of FILE as a user would,
# shows the change, and saves it atomically (the operator follows the folder).
edit() {
  local file=$1 script=$2 cur new
  cur="$MESH_WORK/mesh/$file"
  new="$MESH_WORK/logs/$file.edited"
  sed -E "$script" "$cur" >"$new"
  cmp -s "$cur" "$new" && mesh_fail "editing $file changed nothing: is examples/demo/$file as expected?"
  say "edit ${BOLD}$file${OFF}:"
  { diff -U0 "$cur" "$new" || true; } | sed -nE "s/^-([^-].*)$/     ${RED}-\1${OFF}/p; s/^\+([^+].*)$/     ${GREEN}+\1${OFF}/p"
  EDITED_AT=$(mesh_now_ms)
  mesh_apply "$new" "$file"
}

# applied POD REGEX: waits until the pod's proxy has the edit in its /config.
applied() {
  mesh_wait_until "the proxy of $1 has the change" 10 mesh_config_has "$1" "$2"
  say "the proxy of $1 had it $(($(mesh_now_ms) - EDITED_AT)) ms after the file was saved"
}

# restart_app POD FLAGS...: the pod's app restarts with new flags (a rollout,
# as far as this demo cares); its proxy stays.
restart_app() {
  local pod=$1
  shift
  mesh_app_kill "$pod"
  mesh_app_start "$pod" "$@"
}

# one_request POD URL: status, weft-error and body of one request, shown.
one_request() {
  local out
  out=$(mesh_exec "$1" curl -s --max-time 5 -w '\n%{http_code} %header{weft-error}' "$2" || true)
  say "one request: HTTP $(tail -n1 <<<"$out" | awk '{ print $1 ", weft-error: " ($2 == "" ? "-" : $2) }')," \
    "body: $(head -n -1 <<<"$out" | tr -d '\n' | cut -c1-100)"
}

# On Ctrl-C the library's cleanup runs as on any exit, without printing logs.
demo_on_exit() {
  local rc=$?
  set +e
  # A second Ctrl-C must not cut the cleanup short.
  trap "" INT TERM
  if ((rc == 130)); then
    printf '\n%sdemo: interrupted: stopping every process and removing the namespaces%s\n' \
      "$BOLD" "$OFF"
    rm -f "$MESH_WORK"/logs/*
  fi
  (exit "$rc")
  mesh__on_exit
}

# --- the mesh ---

printf '%sWeft demo%s: a mesh of 5 meshed pods and 1 outsider, each in its own network namespace.\n' \
  "$BOLD" "$OFF"
say "Addresses are from the documentation ranges (pods 192.0.2.0/24, Services 198.51.100.0/24);"
say "there is no route off this machine. Ctrl-C stops everything and removes it."

mesh_up demo "$DEMO_DIR"/*.yaml
trap demo_on_exit EXIT

mesh_pod client-0 5 client --version v1
mesh_pod frontend-0 10 frontend --version v1 --call "$BACKEND_URL"
mesh_pod backend-v1-0 11 backend --version v1 "${BACKEND_FLAGS[@]}"
mesh_pod backend-v1-flaky 12 backend --version v1 "${BACKEND_FLAGS[@]}" --error-rate 0.2
mesh_pod backend-v2-0 13 backend --version v2 "${BACKEND_FLAGS[@]}"
mesh_plain_pod outsider 30 --version v1
for pod in client-0 frontend-0 backend-v1-0 backend-v1-flaky backend-v2-0; do
  STAT_ARGS+=(--proxy "$pod=$(mesh_ip "$pod"):15100")
done

cat <<EOF

   ${BOLD}pod               address       app                                        proxy${OFF}
   hub               192.0.2.254   weft-operator (control plane, mesh CA)     -
   client-0          192.0.2.5     weft-sample load, calls frontend           weft-proxy
   frontend-0        192.0.2.10    weft-sample serve, calls backend           weft-proxy
   backend-v1-0      192.0.2.11    weft-sample serve v1                       weft-proxy
   backend-v1-flaky  192.0.2.12    weft-sample serve v1, fails 20 % (503)     weft-proxy
   backend-v2-0      192.0.2.13    weft-sample serve v2 (the canary)          weft-proxy
   outsider          192.0.2.30    not in the mesh                            -

   Services: frontend 198.51.100.10, backend 198.51.100.20 (v1 .21, v2 .22), port 8080.
   The operator follows ${BOLD}$MESH_WORK/mesh/${OFF} (a copy of examples/demo/);
   the steps below edit files there, as you could.
   Tables: ${BOLD}weftctl stat${OFF} on each proxy's admin port. RPS, SUCCESS, P50, P99 and MTLS are
   the pod's inbound requests (MTLS: their share over mutual TLS); OUT: what it sent.
EOF

# --- the steps ---

step 1 "A 90/10 canary (30-route.yaml) and a flaky instance"
say "client-0 calls frontend at $RATE requests/s; frontend calls backend, which the TrafficRoute"
say "splits 90/10 between backend-v1 and backend-v2. backend-v1-flaky fails 20 % of its requests."
look "backend v2 answers about 10 %; the flaky pod's SUCCESS is ~80 %, yet no request fails:"
say "          the frontend's proxy retries each 503 on another instance."
client_load s1 "$CANARY_WINDOW"
window "$CANARY_WINDOW"
window_wait
load_wait s1
report s1 "client-0 -> frontend"
say "the frontend's proxy retried $(mesh_metric frontend-0 weft_retries_total) requests so far"

step 2 "The circuit breaker opens, and closes (40-policy.yaml: outlierDetection)"
say "backend-v1-flaky breaks: it now fails every request. After 5 failures in a row the"
say "frontend's proxy ejects it (opens its breaker) for 2 s, then lets one probe through;"
say "each failed probe ejects it for 2 s longer."
look "backend-v1-flaky gets almost no requests although it is up; failed stays 0."
restart_app backend-v1-flaky --version v1 "${BACKEND_FLAGS[@]}" --error-rate 1
ejections=$(mesh_metric frontend-0 weft_outlier_ejections_total)
client_load s2a "$WINDOW"
window "$WINDOW"
window_wait
load_wait s2a
report s2a "client-0 -> frontend, backend-v1-flaky broken"
say "the frontend's proxy ejected it $(($(mesh_metric frontend-0 weft_outlier_ejections_total) - ejections)) time(s)"
say "backend-v1-flaky is fixed: from now on it answers every request."
restart_app backend-v1-flaky --version v1 "${BACKEND_FLAGS[@]}"
flaky=$(mesh_metric backend-v1-flaky weft_requests_total 'direction="inbound"')
look "once its ejection ends, the probe succeeds: the breaker closes and it takes traffic again."
client_load s2b "$WINDOW"
window "$WINDOW"
window_wait
load_wait s2b
report s2b "client-0 -> frontend, backend-v1-flaky fixed"
say "backend-v1-flaky answered $(($(mesh_metric backend-v1-flaky weft_requests_total \
  'direction="inbound"') - flaky)) requests since it was fixed"

step 3 "An instance dies under load"
say "Halfway through, backend-v1-flaky is killed: app and proxy, SIGKILL, as when a node dies."
say "It stays in the EndpointSlice, as it would until Kubernetes notices."
look "failed stays 0: each refused connection is retried on another instance, and after 5 in"
say "          a row the dead one is ejected."
ejections=$(mesh_metric frontend-0 weft_outlier_ejections_total)
retries=$(mesh_metric frontend-0 weft_retries_total)
flaky=$(mesh_metric backend-v1-flaky weft_requests_total 'direction="inbound"')
client_load s3 "$WINDOW"
window "$WINDOW"
sleep "$(awk -v w="$WINDOW" 'BEGIN { print w / 2 }')"
flaky=$(($(mesh_metric backend-v1-flaky weft_requests_total 'direction="inbound"') - flaky))
mesh_app_kill backend-v1-flaky
mesh_proxy_kill backend-v1-flaky
window_wait
load_wait s3
report s3 "client-0 -> frontend, backend-v1-flaky killed"
say "backend-v1-flaky had answered $flaky requests of this step before it died; the frontend's"
say "proxy retried $(($(mesh_metric frontend-0 weft_retries_total) - retries)) requests and ejected an instance" \
  "$(($(mesh_metric frontend-0 weft_outlier_ejections_total) - ejections)) time(s) in this step"
mesh_app_start backend-v1-flaky
mesh_proxy_start backend-v1-flaky
say "backend-v1-flaky restarted, as the kubelet would: when its ejection ends, a probe finds it"
say "healthy and it is back in rotation."

step 4 "A timeout (40-policy.yaml)"
say "backend v2 gets slow: its new build takes 900 ms per request."
restart_app backend-v2-0 --version v2 --latency 900ms
look "p99 near 900 ms: the 10 % sent to v2 wait for it."
client_load s4a "$WINDOW"
window "$WINDOW"
window_wait
load_wait s4a
report s4a "client-0 -> frontend, v2 slow"
say "Now the request timeout for backend drops from 2 s to 200 ms."
edit 40-policy.yaml 's/^(    request: )2s$/\1200ms/'
applied frontend-0 '"request": *"200ms"'
look "p99 near 200 ms: the frontend's proxy answers 504 (weft-error: request_timeout)"
say "          instead of waiting; the requests to v1 are untouched."
client_load s4b "$WINDOW"
window "$WINDOW"
window_wait
load_wait s4b
report s4b "client-0 -> frontend, 200 ms timeout"

step 5 "A route change: roll the canary back (30-route.yaml)"
say "v2 is bad, so its weight goes to 0: every request goes to v1 again."
edit 30-route.yaml 's/(name: backend-v1, port: 8080, weight: )90/\1100/; s/(name: backend-v2, port: 8080, weight: )10/\10/'
applied frontend-0 '"weight": *0,?$'
look "backend v2 answers nothing, no request fails, p99 is fast again."
client_load s5 "$WINDOW"
window "$WINDOW"
window_wait
load_wait s5
report s5 "client-0 -> frontend, canary rolled back"

step 6 "STRICT mTLS (00-mesh.yaml)"
say "outsider is not in the mesh: it calls frontend-0 (192.0.2.10:8080) in plaintext."
look "PERMISSIVE: it is served; frontend-0's MTLS share falls below 100 %."
client_load s6a "$WINDOW"
load_start s6a-outsider outsider "http://$(mesh_ip frontend-0):8080/" --rate 10 --concurrency 2 \
  --duration "${WINDOW}s"
window "$WINDOW"
window_wait
load_wait s6a
load_wait s6a-outsider
report s6a-outsider "outsider -> frontend-0, plaintext, PERMISSIVE"
say "Now the Mesh says STRICT."
edit 00-mesh.yaml 's/^(    mode: )PERMISSIVE$/\1STRICT/'
applied frontend-0 '"mtls": *"STRICT"'
look "the outsider gets 403 from frontend-0's proxy, and its app never sees the request:"
say "          frontend-0's OUT RPS falls to client-0's rate. client-0's mTLS requests go on."
one_request outsider "http://$(mesh_ip frontend-0):8080/"
client_load s6b "$WINDOW"
load_start s6b-outsider outsider "http://$(mesh_ip frontend-0):8080/" --rate 10 --concurrency 2 \
  --duration "${WINDOW}s"
window "$WINDOW"
window_wait
load_wait s6b
load_wait s6b-outsider
report s6b-outsider "outsider -> frontend-0, plaintext, STRICT"
report s6b "client-0 -> frontend, mTLS, STRICT"

step 7 "An AccessPolicy denies a caller (50-access.yaml)"
say "Only frontend's service account may call backend. client-0 is meshed and has an identity"
say "(spiffe://cluster.local/ns/demo/sa/client), but it is not frontend."
look "client-0's direct calls to backend get 403 from the backends' proxies; via frontend, 100 %."
denied=0
for pod in backend-v1-0 backend-v1-flaky backend-v2-0; do
  denied=$((denied - $(mesh_metric "$pod" weft_authz_denied_total)))
done
client_load s7 "$WINDOW"
load_start s7-direct client-0 "$BACKEND_URL" --rate 10 --concurrency 2 --duration "${WINDOW}s"
window "$WINDOW"
window_wait
load_wait s7
load_wait s7-direct
report s7-direct "client-0 -> backend directly"
report s7 "client-0 -> frontend"
for pod in backend-v1-0 backend-v1-flaky backend-v2-0; do
  denied=$((denied + $(mesh_metric "$pod" weft_authz_denied_total)))
done
say "the backends' proxies denied $denied requests"
one_request client-0 "$BACKEND_URL"

printf '\n%sdemo: done in %d s; removing every namespace and process it made.%s\n' "$BOLD" \
  $((SECONDS - STARTED)) "$OFF"
