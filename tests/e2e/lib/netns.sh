# Test network namespaces joined by a bridge, for e2e tests and the demo.
# shellcheck shell=bash
# Source it (bash, as root):
#
#   source tests/e2e/lib/netns.sh
#   weft_netns_init            # hub namespace with bridge br0; cleanup on EXIT/INT/TERM
#   weft_netns_add client 11   # namespace <prefix>client, eth0 192.0.2.11/24, 2001:db8:1::11/64
#   weft_netns_add server 12
#   weft_netns_exec server ./server --listen 0.0.0.0:8080 &
#   weft_netns_exec client curl http://192.0.2.12:8080/
#   weft_netns_redirect client build/proxy/weft-proxy   # the real iptables redirect
#   weft_netns_exec_as client 2102 build/proxy/weft-proxy --config ... &
#
# Nothing touches the host's network: the bridge lives in its own hub
# namespace, veth pairs are created inside the namespaces, and there is no
# default route, so a broken test fails locally instead of sending traffic
# anywhere. Addresses are from the documentation ranges: 192.0.2.0/24 and
# 2001:db8:1::/64 on the bridge; 198.51.100.0/24 and 2001:db8:7::/48 are routed
# to the hub so "arbitrary" destinations are routable. The hub owns them with
# no listener, so a connection that reaches one (a request the proxy failed to
# route) is refused at once instead of hanging until a timeout.
# The hub itself is 192.0.2.254 / 2001:db8:1::fe (run shared services there
# with weft_netns_exec hub ...).

WEFT_NETNS_PREFIX=${WEFT_NETNS_PREFIX:-}
WEFT_NETNS_CREATED=()

# weft_netns_init [PREFIX]: creates the hub. PREFIX defaults to weft-e2e-<pid>-;
# names carry the pid so that weft_netns_reap_stale can tell leftovers.
weft_netns_init() {
  WEFT_NETNS_PREFIX=${1:-weft-e2e-$$-}
  weft_netns_reap_stale
  local hub="${WEFT_NETNS_PREFIX}hub"
  ip netns add "$hub" || return 1
  WEFT_NETNS_CREATED+=("$hub")
  # Chain any EXIT trap the caller already has instead of replacing it.
  local previous
  previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  # shellcheck disable=SC2064
  trap "weft_netns_cleanup; ${previous:-:}" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # A fixed MAC: a bridge without one takes the lowest of its ports' and
  # changes it when a lower one joins, leaving pods that already resolved the
  # hub with a stale neighbour entry (their SYNs to the hub then vanish).
  ip -n "$hub" link set lo up &&
    ip -n "$hub" link add br0 address 02:00:c0:00:02:fe type bridge &&
    ip -n "$hub" addr add 192.0.2.254/24 dev br0 &&
    ip -n "$hub" -6 addr add 2001:db8:1::fe/64 dev br0 nodad &&
    ip -n "$hub" link set br0 up &&
    ip -n "$hub" route add local 198.51.100.0/24 dev lo &&
    ip -n "$hub" -6 route add local 2001:db8:7::/48 dev lo
}

# weft_netns_add NAME INDEX: a namespace on the bridge at 192.0.2.INDEX and
# 2001:db8:1::INDEX (the same digits, read as hex; INDEX 1-253), with only
# loopback and eth0.
weft_netns_add() {
  local name=$1 index=$2
  if [[ -z $WEFT_NETNS_PREFIX ]]; then
    echo "weft_netns_add: call weft_netns_init first" >&2
    return 1
  fi
  if ! [[ $index =~ ^[0-9]+$ ]] || ((index < 1 || index > 253)); then
    echo "weft_netns_add: index must be 1-253, got '$index'" >&2
    return 1
  fi
  local ns="${WEFT_NETNS_PREFIX}${name}" hub="${WEFT_NETNS_PREFIX}hub"
  ip netns add "$ns" || return 1
  WEFT_NETNS_CREATED+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" link add eth0 type veth peer name "h${index}" netns "$hub" &&
    ip -n "$hub" link set "h${index}" master br0 &&
    ip -n "$hub" link set "h${index}" up &&
    ip -n "$ns" addr add "192.0.2.${index}/24" dev eth0 &&
    ip -n "$ns" -6 addr add "2001:db8:1::${index}/64" dev eth0 nodad &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$ns" route add 198.51.100.0/24 via 192.0.2.254 &&
    ip -n "$ns" -6 route add 2001:db8:7::/48 via 2001:db8:1::fe
}

# weft_netns_name NAME: the full namespace name (for ip netns exec and friends).
weft_netns_name() { echo "${WEFT_NETNS_PREFIX}$1"; }

# weft_netns_exec NAME CMD...: runs CMD inside the namespace.
weft_netns_exec() {
  local ns="${WEFT_NETNS_PREFIX}$1"
  shift
  ip netns exec "$ns" "$@"
}

# weft_netns_exec_as NAME UID CMD...: runs CMD in the namespace as UID (and
# GID UID), e.g. the proxy as 2102 so that its own traffic bypasses the redirect.
weft_netns_exec_as() {
  local name=$1 uid=$2
  shift 2
  weft_netns_exec "$name" setpriv --reuid "$uid" --regid "$uid" --clear-groups "$@"
}

# weft_netns_redirect NAME PROXY_BINARY [INIT FLAGS...]: installs the real
# redirect (`weft-proxy init`) in the namespace, as the init container would.
weft_netns_redirect() {
  local name=$1 bin=$2
  shift 2
  weft_netns_exec "$name" "$bin" init "$@"
}

# weft_netns_cleanup: kills what runs in our namespaces and deletes them.
# Idempotent; installed as the EXIT trap by weft_netns_init.
weft_netns_cleanup() {
  local ns pids
  for ns in "${WEFT_NETNS_CREATED[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n $pids ]]; then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
  done
  WEFT_NETNS_CREATED=()
}

# weft_netns_reap_stale: deletes weft-*-<pid>-* namespaces whose creator is gone,
# and kills what still runs in them (a run killed by a timeout leaves both).
weft_netns_reap_stale() {
  local ns pid pids
  while read -r ns _; do
    if [[ $ns =~ ^weft-[a-z0-9]+-([0-9]+)- ]]; then
      pid=${BASH_REMATCH[1]}
      if ! weft_netns_alive "$pid"; then
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [[ -n $pids ]]; then
          # shellcheck disable=SC2086
          kill -KILL $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
      fi
    fi
  done < <(ip netns list 2>/dev/null)
}

# weft_netns_alive PID: whether PID runs (a zombie, killed but not yet
# reaped by its parent, does not).
weft_netns_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
