#!/usr/bin/env bash
# Smoke test of tests/e2e/lib/netns.sh: two namespaces talk over the bridge,
# nothing routes off the machine, and every namespace is gone afterwards, also
# when the script using the helpers fails; the redirect helpers work.
# Usage: netns_sh_test.sh PROBE_BINARY WEFT_PROXY_BINARY
set -euo pipefail
probe=$1
proxy=$2
here=$(cd "$(dirname "$0")" && pwd)
lib="$here/../../e2e/lib/netns.sh"
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root"
  exit 0
fi

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

prefix="weft-nstest-$$-"
# A user of the helpers that fails half-way: its trap must still clean up.
if bash -c "set -e; source '$lib'; weft_netns_init '${prefix}x-'; weft_netns_add a 1; false; echo unreachable" 2>&1 |
  grep -q unreachable; then
  fail "set -e script went on"
fi
left=$(ip netns list | grep -c "^${prefix}x-" || true)
[[ $left -eq 0 ]] || fail "$left namespaces left after a failing script"

# shellcheck source=tests/e2e/lib/netns.sh
source "$lib"
weft_netns_init "$prefix"
weft_netns_add a 11
weft_netns_add b 12
[[ $(ip netns list | grep -c "^${prefix}") -eq 3 ]] || fail "expected hub, a and b"

[[ -z $(weft_netns_exec a ip route show default) ]] || fail "a has a default route"
[[ -z $(weft_netns_exec a ip -6 route show default) ]] || fail "a has an IPv6 default route"

weft_netns_exec b "$probe" listen 8080 30 >"/tmp/${prefix}listen.log" &
for _ in $(seq 1 200); do
  grep -q READY "/tmp/${prefix}listen.log" 2>/dev/null && break
  sleep 0.05
done
out=$(weft_netns_exec a "$probe" connect 192.0.2.12 8080)
[[ $out == "OK LANDED local=192.0.2.12:8080 orig=none peer=192.0.2.11:"* ]] || fail "v4: $out"
out=$(weft_netns_exec a "$probe" connect 2001:db8:1::12 8080)
[[ $out == "OK LANDED local=[2001:db8:1::12]:8080 orig=none peer=[2001:db8:1::11]:"* ]] || fail "v6: $out"
# The documentation range is routable but nothing is there: it fails locally.
out=$(weft_netns_exec a "$probe" connect 198.51.100.7 80 || true)
[[ $out == FAIL* ]] || fail "198.51.100.7 answered: $out"

# The redirect helpers: a's outbound lands on its 15101, except the proxy UID's.
weft_netns_redirect a "$proxy" 2>/dev/null
weft_netns_exec a "$probe" listen 15101 30 >"/tmp/${prefix}listen-a.log" &
for _ in $(seq 1 200); do
  grep -q READY "/tmp/${prefix}listen-a.log" 2>/dev/null && break
  sleep 0.05
done
out=$(weft_netns_exec a "$probe" connect 192.0.2.12 8080)
[[ $out == "OK LANDED local=127.0.0.1:15101 orig=192.0.2.12:8080 "* ]] || fail "redirect: $out"
out=$(weft_netns_exec_as a 2102 "$probe" connect 192.0.2.12 8080)
[[ $out == "OK LANDED local=192.0.2.12:8080 "* ]] || fail "as 2102: $out"
rm -f "/tmp/${prefix}listen.log" "/tmp/${prefix}listen-a.log"

weft_netns_cleanup
left=$(ip netns list | grep -c "^${prefix}" || true)
[[ $left -eq 0 ]] || fail "$left namespaces left after cleanup"
echo PASS
