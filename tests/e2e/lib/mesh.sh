# The whole mesh on one machine, for e2e tests (and the demo): the real
# weft-operator in `--source dir:` mode with identity on, in the hub namespace,
# and pods, each a network namespace with its app, the real `weft-proxy init`
# redirect and weft-proxy as UID 2102, as in a Kubernetes pod.
# shellcheck shell=bash
#
#   source tests/e2e/lib/mesh.sh
#   mesh_up lb                            # hub + operator on tests/e2e/fixtures/{00,10,20}-*.yaml
#   mesh_pod frontend-0 10 frontend       # POD INDEX SERVICE_ACCOUNT [APP FLAGS...]
#   mesh_pod backend-v1-0 11 backend --latency-ms 5
#   mesh_apply "$MESH_FIXTURES/route-canary-90-10.yaml"
#   out=$(mesh_requests frontend-0 100 "$MESH_BACKEND_URL/")    # "STATUS BACKEND" lines
#   mesh_expect "all succeeded" test "$(mesh_count 200 <<<"$out")" -eq 100
#   mesh_metric backend-v1-0 weft_requests_total 'direction="inbound"'
#
# Binaries come from $WEFT_PROXY, $WEFT_OPERATOR and $WEFT_TEST_BACKEND (ctest
# sets them), else from ${WEFT_BUILD_DIR:-build}. Every process runs inside
# the test's namespaces; the EXIT trap kills them, deletes the namespaces and
# the work folder (its logs are printed first when the test failed), and a
# watchdog ends a test that overruns $MESH_DEADLINE seconds the same way.
# Leftovers of runs that were killed outright are reaped by the next mesh_up.
# Every helper that generates load is bounded in count and time.

MESH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MESH_FIXTURES=$(cd "$MESH_LIB_DIR/../fixtures" && pwd)
# shellcheck source=tests/e2e/lib/netns.sh
source "$MESH_LIB_DIR/netns.sh"

MESH_SKIP=77 # ctest SKIP_RETURN_CODE
MESH_HUB_IP=192.0.2.254
MESH_CONTROL_PLANE=$MESH_HUB_IP:8443
MESH_OPERATOR_ADMIN=$MESH_HUB_IP:9990
MESH_PROXY_UID=2102
MESH_NAMESPACE=demo
# The Services of the fixtures, by ClusterIP (what cluster DNS would answer).
# shellcheck disable=SC2034 # for the tests
MESH_BACKEND_URL=http://198.51.100.20:8080
# shellcheck disable=SC2034
MESH_BACKEND_V1_URL=http://198.51.100.21:8080
MESH_DEADLINE=${MESH_DEADLINE:-75}

MESH_NAME=
MESH_WORK=
MESH_WATCHDOG_PID=
MESH_OPERATOR_PID=
declare -A MESH_POD_INDEX=() MESH_POD_SA=() MESH_APP_PID=() MESH_APP_FLAGS=() MESH_PROXY_PID=()
declare -A MESH_TOKENS=()

mesh_log() { printf '%s e2e[%s]: %s\n' "$(date +%T.%3N)" "$MESH_NAME" "$*" >&2; }

# mesh_fail MESSAGE: the test fails with MESSAGE (logs are printed on exit).
mesh_fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# mesh_expect DESCRIPTION CMD...: CMD must succeed, else the test fails.
mesh_expect() {
  local what=$1
  shift
  if "$@"; then
    mesh_log "ok: $what"
  else
    mesh_fail "$what"
  fi
}

mesh_skip() {
  echo "SKIP: $*" >&2
  exit "$MESH_SKIP"
}

# mesh_bin NAME: the path of a binary of the build.
mesh_bin() {
  local build=${WEFT_BUILD_DIR:-$MESH_LIB_DIR/../../../build}
  case $1 in
    proxy) echo "${WEFT_PROXY:-$build/proxy/weft-proxy}" ;;
    operator) echo "${WEFT_OPERATOR:-$build/operator/weft-operator}" ;;
    backend) echo "${WEFT_TEST_BACKEND:-$build/tests/support/weft-test-backend}" ;;
  esac
}

# mesh_up NAME [FIXTURE...]: the hub namespace with the operator on a fresh
# folder holding FIXTURE files (default: 00-mesh, 10-frontend, 20-backend).
# NAME ([a-z0-9]+) makes namespace and folder names unique per test, so tests
# can run in parallel. Skips (exit 77) when not root or without `ip netns`.
mesh_up() {
  MESH_NAME=$1
  shift
  if ! [[ $MESH_NAME =~ ^[a-z0-9]+$ ]]; then
    echo "mesh_up: NAME must be [a-z0-9]+, got '$MESH_NAME'" >&2
    exit 2
  fi
  if [[ $(id -u) -ne 0 ]]; then
    mesh_skip "e2e tests need root (network namespaces, iptables)"
  fi
  local b
  for b in proxy operator backend; do
    [[ -x $(mesh_bin "$b") ]] || mesh_fail "$(mesh_bin "$b") is missing: build it first"
  done
  for b in curl wrk tcpdump iptables setpriv openssl; do
    command -v "$b" >/dev/null || mesh_fail "$b is missing: run scripts/install-deps.sh"
  done
  local probe="weft-probe-$$-netns"
  if ! ip netns add "$probe" 2>/dev/null; then
    mesh_skip "ip netns add is not possible here"
  fi
  ip netns del "$probe"

  mesh__reap_stale_work
  weft_netns_init "weft-$MESH_NAME-$$-" || mesh_fail "could not create the hub namespace"
  # Replace the trap weft_netns_init set: ours reports, then cleans up.
  trap mesh__on_exit EXIT

  MESH_WORK=$(mktemp -d "/tmp/weft-e2e-$MESH_NAME-$$-XXXXXX")
  # The proxies run as UID 2102 and read their token and the control plane's CA.
  chmod 755 "$MESH_WORK"
  mkdir -p "$MESH_WORK/mesh" "$MESH_WORK/logs" "$MESH_WORK/tokens"
  chmod 755 "$MESH_WORK/tokens"
  (
    local end=$((SECONDS + MESH_DEADLINE)) stat
    while ((SECONDS < end)); do
      # Not holding the test's output: a sleep outliving us must not keep it open.
      sleep 1 >/dev/null 2>&1
      # Orphaned: the test was killed outright, and its pid may be reused.
      read -r stat <"/proc/$BASHPID/stat"
      stat=${stat##*) }
      read -r _ stat _ <<<"$stat"
      [[ $stat == "$$" ]] || exit 0
    done
    echo "FAIL: $MESH_NAME overran its deadline of $MESH_DEADLINE s" >&2
    kill -TERM $$
    # The shell runs its trap only once its current command ends: end that
    # too (and whatever else the test started; cleanup follows).
    pkill -TERM -P $$
  ) &
  MESH_WATCHDOG_PID=$!

  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=weft-control -addext "subjectAltName=IP:$MESH_HUB_IP" \
    -keyout "$MESH_WORK/control.key" -out "$MESH_WORK/control.crt" 2>/dev/null ||
    mesh_fail "openssl could not make the discovery certificate"
  chmod 644 "$MESH_WORK/control.crt"
  mesh__write_tokens
  if (($# == 0)); then
    set -- "$MESH_FIXTURES/00-mesh.yaml" "$MESH_FIXTURES/10-frontend.yaml" \
      "$MESH_FIXTURES/20-backend.yaml"
  fi
  local f
  for f in "$@"; do
    mesh_apply "$f"
  done
  mesh_operator_start
}

# mesh_operator_start: starts weft-operator in the hub (again, after a stop)
# and waits until it is ready. The CA stays in the work folder, so a restart
# keeps the mesh's root.
mesh_operator_start() {
  # Started as plain commands (not through the shell functions of netns.sh),
  # so that $! is the process itself and a kill reaches it.
  ip netns exec "$(weft_netns_name hub)" "$(mesh_bin operator)" --source "dir:$MESH_WORK/mesh" \
    --discovery-listen "$MESH_CONTROL_PLANE" --admin-listen "$MESH_OPERATOR_ADMIN" \
    --tls-cert "$MESH_WORK/control.crt" --tls-key "$MESH_WORK/control.key" \
    --issuer-dir "$MESH_WORK/issuer" --log-level "${MESH_OPERATOR_LOG_LEVEL:-info}" \
    >>"$MESH_WORK/logs/operator.log" 2>&1 &
  MESH_OPERATOR_PID=$!
  mesh_wait_until "the operator is ready" 10 \
    weft_netns_exec hub curl -fs --max-time 1 -o /dev/null "http://$MESH_OPERATOR_ADMIN/readyz"
}

# mesh_operator_stop [SIGNAL]: stops the operator (default SIGTERM) and waits for it.
mesh_operator_stop() {
  local sig=${1:-TERM}
  [[ -n $MESH_OPERATOR_PID ]] || mesh_fail "mesh_operator_stop: the operator is not running"
  kill "-$sig" "$MESH_OPERATOR_PID" 2>/dev/null || true
  wait "$MESH_OPERATOR_PID" 2>/dev/null || true
  MESH_OPERATOR_PID=
}

# mesh_apply FILE [NAME]: puts FILE into the operator's folder as NAME
# (default: its own name), replacing the file of that name. The rename is
# atomic, so the operator never reads half a file.
mesh_apply() {
  local src=$1 name=${2:-$(basename "$1")}
  cp "$src" "$MESH_WORK/mesh/.$name.tmp"
  mv -f "$MESH_WORK/mesh/.$name.tmp" "$MESH_WORK/mesh/$name"
}

# mesh_apply_yaml NAME: the same with the YAML on stdin (a heredoc).
mesh_apply_yaml() {
  local name=$1
  cat >"$MESH_WORK/mesh/.$name.tmp"
  mv -f "$MESH_WORK/mesh/.$name.tmp" "$MESH_WORK/mesh/$name"
}

# mesh_delete NAME: removes a file from the operator's folder.
mesh_delete() { rm -f "$MESH_WORK/mesh/$1"; }

# mesh_pod POD INDEX SERVICE_ACCOUNT [APP FLAGS...]: a meshed pod of namespace
# demo at 192.0.2.INDEX: its app (weft-test-backend on :8080, named POD, with
# APP FLAGS), the iptables redirect by `weft-proxy init`, and weft-proxy as
# UID 2102 with its own service-account token (vouched for in the operator's
# identity-tokens.yaml). Returns once the proxy is ready (it holds a workload
# certificate) and has its Inbound document. The Pod itself must be in the
# operator's folder (the fixtures hold frontend-0 and the backends).
mesh_pod() {
  local pod=$1 index=$2 sa=$3
  shift 3
  mesh__pod_namespace "$pod" "$index"
  MESH_POD_SA[$pod]=$sa
  mesh_app_start "$pod" "$@"
  weft_netns_redirect "$pod" "$(mesh_bin proxy)" >>"$MESH_WORK/logs/$pod.init.log" 2>&1 ||
    mesh_fail "weft-proxy init failed in $pod: $(cat "$MESH_WORK/logs/$pod.init.log")"
  local token
  token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$token" >"$MESH_WORK/tokens/$pod"
  chmod 644 "$MESH_WORK/tokens/$pod"
  MESH_TOKENS[$token]="$MESH_NAMESPACE/$sa"
  mesh__write_tokens
  mesh_proxy_start "$pod"
}

# mesh_proxy_start POD: (re)starts the pod's proxy and waits until it is ready.
mesh_proxy_start() {
  local pod=$1
  POD_NAMESPACE=$MESH_NAMESPACE POD_NAME=$pod SERVICE_ACCOUNT=${MESH_POD_SA[$pod]} \
    ip netns exec "$(weft_netns_name "$pod")" setpriv --reuid "$MESH_PROXY_UID" \
    --regid "$MESH_PROXY_UID" --clear-groups "$(mesh_bin proxy)" \
    --control-plane "$MESH_CONTROL_PLANE" --control-plane-ca "$MESH_WORK/control.crt" \
    --identity-token-file "$MESH_WORK/tokens/$pod" --admin-listen 0.0.0.0:15100 \
    --workers 1 --log-level "${MESH_PROXY_LOG_LEVEL:-info}" >>"$MESH_WORK/logs/$pod.proxy.log" 2>&1 &
  MESH_PROXY_PID[$pod]=$!
  local ip
  ip=$(mesh_ip "$pod")
  mesh_wait_until "the proxy of $pod is ready" 10 \
    weft_netns_exec hub curl -fs --max-time 1 -o /dev/null "http://$ip:15100/ready"
  mesh_wait_until "the proxy of $pod has its Inbound document" 5 \
    mesh_config_has "$pod" "\"pod\": *\"$MESH_NAMESPACE/$pod\""
}

# mesh_sample_pods [BACKEND APP FLAGS...]: the fixtures' pods: frontend-0
# (192.0.2.10) and backend-v1-0, backend-v1-flaky, backend-v2-0 (.11-.13),
# the backends' apps started with BACKEND APP FLAGS.
# shellcheck disable=SC2120 # the flags are optional
mesh_sample_pods() {
  mesh_pod frontend-0 10 frontend
  mesh_pod backend-v1-0 11 backend "$@"
  mesh_pod backend-v1-flaky 12 backend "$@"
  mesh_pod backend-v2-0 13 backend "$@"
}

# mesh_plain_pod POD INDEX: a namespace with the app only, no proxy and no
# redirect: a workload outside the mesh.
mesh_plain_pod() {
  local pod=$1 index=$2
  shift 2
  mesh__pod_namespace "$pod" "$index"
  mesh_app_start "$pod" "$@"
}

# mesh_app_start POD [APP FLAGS...]: (re)starts the pod's app; without flags,
# those it was last started with.
mesh_app_start() {
  local pod=$1
  shift
  if (($# > 0)) || [[ -z ${MESH_APP_FLAGS[$pod]+set} ]]; then
    MESH_APP_FLAGS[$pod]="$*"
  fi
  local log="$MESH_WORK/logs/$pod.app.log"
  : >"$log"
  # shellcheck disable=SC2086 # the flags were words when given
  ip netns exec "$(weft_netns_name "$pod")" "$(mesh_bin backend)" --listen 0.0.0.0 --port 8080 --name "$pod" \
    ${MESH_APP_FLAGS[$pod]} >>"$log" 2>&1 &
  MESH_APP_PID[$pod]=$!
  mesh_wait_until "the app of $pod listens" 5 grep -q "listening on" "$log"
}

# mesh_app_kill POD / mesh_proxy_kill POD: SIGKILL, as a crash.
mesh_app_kill() { mesh__kill "${MESH_APP_PID[$1]}"; }
mesh_proxy_kill() { mesh__kill "${MESH_PROXY_PID[$1]}"; }

mesh__kill() {
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# mesh_ip POD: the pod's address.
mesh_ip() { echo "192.0.2.${MESH_POD_INDEX[$1]}"; }

# mesh_exec POD CMD...: runs CMD in the pod's namespace as root, i.e. as the
# app would: its TCP goes through the pod's proxy when the pod has one.
mesh_exec() { weft_netns_exec "$@"; }

# mesh_admin POD PATH: GET on the proxy's admin port, from the hub.
mesh_admin() {
  weft_netns_exec hub curl -fs --max-time 2 "http://$(mesh_ip "$1"):15100$2"
}

# mesh_config_has POD REGEX / mesh_config_lacks POD REGEX: whether the
# proxy's /config (its current documents) matches the extended REGEX; both
# fail when /config cannot be read.
mesh_config_has() {
  local text
  text=$(mesh_admin "$1" /config) || return 1
  grep -Eq "$2" <<<"$text"
}
mesh_config_lacks() {
  local text
  text=$(mesh_admin "$1" /config) || return 1
  ! grep -Eq "$2" <<<"$text"
}

# mesh_metric POD NAME [LABEL=\"VALUE\"...]: the sum of the proxy's series
# NAME whose labels contain every LABEL=\"VALUE\" given (0 when none).
mesh_metric() {
  local pod=$1 name=$2 text
  shift 2
  text=$(mesh_admin "$pod" /metrics) || mesh_fail "the metrics of $pod are unreachable"
  mesh_sum_series "$name" "$@" <<<"$text"
}

# mesh_sum_series NAME [FILTER...]: the same on Prometheus text on stdin.
mesh_sum_series() {
  local name=$1
  shift
  awk -v name="$name" -v filters="$*" '
    BEGIN { n = split(filters, f, " ") }
    /^#/ { next }
    {
      series = $1
      base = series; sub(/\{.*/, "", base)
      if (base != name) next
      for (i = 1; i <= n; i++) if (index(series, f[i]) == 0) next
      sum += $2
    }
    END { printf "%.0f\n", sum }'
}

# mesh_failed_outbound POD: outbound requests POD's proxy answered with
# anything but 2xx, as it counted them: the proxy's view beside the client's.
mesh_failed_outbound() {
  local text all ok
  text=$(mesh_admin "$1" /metrics) || mesh_fail "the metrics of $1 are unreachable"
  all=$(mesh_sum_series weft_requests_total 'direction="outbound"' <<<"$text")
  ok=$({ grep -E '^weft_requests_total\{.*direction="outbound".*code="2[0-9][0-9]"' <<<"$text" ||
    true; } | mesh_sum_series weft_requests_total)
  echo $((all - ok))
}

# mesh_operator_metric NAME [FILTER...]: the same from the operator.
mesh_operator_metric() {
  local name=$1
  shift
  local text
  text=$(weft_netns_exec hub curl -fs --max-time 2 "http://$MESH_OPERATOR_ADMIN/metrics") ||
    mesh_fail "the operator's metrics are unreachable"
  mesh_sum_series "$name" "$@" <<<"$text"
}

# mesh_requests POD N URL [CURL ARGS...]: N GETs of URL?i=1..N from POD's
# app, each within 5 s: one after the other on one keep-alive connection, or
# $MESH_PARALLEL at a time. Prints one line per request: "STATUS BACKEND"
# (BACKEND is the answering app's name, "-" when the proxy answered itself;
# STATUS 000 when curl got no answer).
mesh_requests() {
  local pod=$1 n=$2 url=$3 sep='?'
  shift 3
  [[ $url == *\?* ]] && sep='&'
  if ((${MESH_PARALLEL:-1} > 1)); then
    set -- -Z --parallel-immediate --parallel-max "$MESH_PARALLEL" "$@"
  fi
  # curl exits with the last transfer's error; the lines say what happened to each.
  { mesh_exec "$pod" curl -s -o /dev/null --max-time 5 "$@" \
    -w '%{http_code} %header{x-backend}\n' "$url${sep}i=[1-$n]" || true; } | awk '{ print $1, ($2 == "" ? "-" : $2) }'
}

# mesh_tally: "COUNT STATUS BACKEND" lines from mesh_requests output.
mesh_tally() { sort | uniq -c | awk '{ print $1, $2, $3 }'; }

# mesh_count STATUS [BACKEND]: how many lines of mesh_requests output on
# stdin have STATUS (and BACKEND).
mesh_count() {
  awk -v s="$1" -v b="${2:-}" '$1 == s && (b == "" || $2 == b) { n++ } END { print n + 0 }'
}

# mesh_load_start POD SECONDS CONNECTIONS URL: wrk in the background from POD's
# app for SECONDS, CONNECTIONS keep-alive connections, 3 s timeout per request.
# mesh_load_wait then waits for it and sets MESH_LOAD_REQUESTS, MESH_LOAD_NON2XX
# (non-2xx/3xx answers) and MESH_LOAD_ERRORS (connect, read, write, timeout).
mesh_load_start() {
  local pod=$1 seconds=$2 connections=$3 url=$4
  MESH_LOAD_OUT="$MESH_WORK/logs/load.$RANDOM.out"
  timeout "$((seconds + 10))" ip netns exec "$(weft_netns_name "$pod")" \
    wrk -t1 -c"$connections" -d"${seconds}s" --timeout 3s "$url" >"$MESH_LOAD_OUT" 2>&1 &
  MESH_LOAD_PID=$!
}

mesh_load_wait() {
  wait "$MESH_LOAD_PID" || mesh_fail "wrk failed: $(cat "$MESH_LOAD_OUT")"
  MESH_LOAD_REQUESTS=$(awk '/requests in/ { print $1 }' "$MESH_LOAD_OUT")
  MESH_LOAD_NON2XX=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$MESH_LOAD_OUT")
  MESH_LOAD_ERRORS=$(awk '/Socket errors:/ {
    gsub(",", ""); print $4 + $6 + $8 + $10 }' "$MESH_LOAD_OUT")
  MESH_LOAD_NON2XX=${MESH_LOAD_NON2XX:-0}
  MESH_LOAD_ERRORS=${MESH_LOAD_ERRORS:-0}
  [[ -n $MESH_LOAD_REQUESTS ]] || mesh_fail "no wrk summary: $(cat "$MESH_LOAD_OUT")"
  mesh_log "load: $MESH_LOAD_REQUESTS requests, $MESH_LOAD_NON2XX non-2xx, $MESH_LOAD_ERRORS socket errors"
}

# mesh_wait_until DESCRIPTION SECONDS CMD...: retries CMD every 50 ms for up
# to SECONDS; fails the test when it never succeeds.
mesh_wait_until() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      mesh_fail "timed out after ${seconds}s waiting until $what"
    fi
    sleep 0.05
  done
}

# mesh_now_ms: a monotonic-enough clock for measuring propagation.
mesh_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- internals ---

mesh__pod_namespace() {
  local pod=$1 index=$2
  [[ -z ${MESH_POD_INDEX[$pod]+set} ]] || mesh_fail "pod $pod exists already"
  weft_netns_add "$pod" "$index" || mesh_fail "could not create the namespace of $pod"
  MESH_POD_INDEX[$pod]=$index
}

# The operator's identity-tokens.yaml: it stands in for TokenReview.
mesh__write_tokens() {
  local f="$MESH_WORK/mesh/.identity-tokens.tmp" token
  {
    echo "# token: namespace/serviceaccount"
    if ((${#MESH_TOKENS[@]} == 0)); then
      echo "tokens: {}"
    else
      echo "tokens:"
      for token in "${!MESH_TOKENS[@]}"; do
        echo "  $token: ${MESH_TOKENS[$token]}"
      done
    fi
  } >"$f"
  mv -f "$f" "$MESH_WORK/mesh/identity-tokens.yaml"
}

mesh__on_exit() {
  local rc=$?
  trap - EXIT
  # Clean up as much as possible, whatever fails on the way.
  set +e
  # The kills below are expected: no "Killed" line per background job.
  disown -a 2>/dev/null
  [[ -n $MESH_WATCHDOG_PID ]] && kill "$MESH_WATCHDOG_PID" 2>/dev/null
  weft_netns_cleanup
  if [[ -n $MESH_WORK && -d $MESH_WORK ]]; then
    if ((rc != 0 && rc != MESH_SKIP)); then
      local f
      for f in "$MESH_WORK"/logs/*; do
        [[ -s $f ]] || continue
        echo "---- $(basename "$f") (last 40 lines)" >&2
        tail -n 40 "$f" >&2
      done
    fi
    if [[ -n ${WEFT_E2E_KEEP:-} ]]; then
      echo "e2e: kept $MESH_WORK" >&2
    else
      rm -rf "$MESH_WORK"
    fi
  fi
  exit "$rc"
}

# Work folders of runs whose shell is gone (killed by a timeout).
mesh__reap_stale_work() {
  local d pid
  for d in /tmp/weft-e2e-*-*-*; do
    [[ -d $d && $d =~ ^/tmp/weft-e2e-[a-z0-9]+-([0-9]+)- ]] || continue
    pid=${BASH_REMATCH[1]}
    weft_netns_alive "$pid" || rm -rf "$d"
  done
}
