#!/usr/bin/env bash
# e2e: the README's first command cannot silently rot. Runs the demo
# (examples/demo/run.sh --fast --no-color) and checks, from the numbers it
# printed, what each step says happens: the 90/10 canary, the breaker, no
# failed request when an instance dies, the timeout, the route change,
# plaintext refused under STRICT and 403 for the denied caller. Then: without
# root it refuses with a clear message, and Ctrl-C mid-run leaves no
# namespace, process or folder behind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
RUN=$ROOT/examples/demo/run.sh

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the demo needs root (network namespaces, iptables)"
  exit 77
fi
if ! ip netns add "weft-probe-$$-demo" 2>/dev/null; then
  echo "SKIP: ip netns add is not possible here"
  exit 77
fi
ip netns del "weft-probe-$$-demo"

work=$(mktemp -d /tmp/weft-demo-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
# expect DESCRIPTION CMD...: CMD must succeed; every failure is reported.
expect() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what" >&2
    failures=$((failures + 1))
  fi
}
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }

# section N: the output of step N.
section() { awk -v n="== $1/" 'index($0, "== ") == 1 { on = index($0, n) == 1 } on' "$work/run.out"; }
# report N LABEL: step N's report line LABEL and the line after it.
report() { section "$1" | awk -v l="   $2: " 'index($0, l) == 1 { print; getline; print; exit }'; }
# numbers N LABEL: "REQUESTS OK FAILED P99" of that report (zeros when missing).
numbers() {
  report "$1" "$2" | awk 'NR == 1 && match($0, /: [0-9]+ requests, [0-9]+ ok \([^)]*\), [0-9]+ failed/) {
    split(substr($0, RSTART + 2, RLENGTH - 2), w, " ")
    p99 = $0; sub(/.*p99 /, "", p99); sub(/ ms$/, "", p99)
    print w[1], w[3], w[6], p99; found = 1
  } END { if (!found) print 0, 0, 0, 0 }'
}
# status N LABEL CODE: how many of that report's requests got HTTP CODE.
status() {
  report "$1" "$2" | awk -v c="$3" 'NR == 1 && match($0, "HTTP " c " x[0-9]+") {
    n = substr($0, RSTART + length(c) + 7, RLENGTH - length(c) - 7) } END { print n + 0 }'
}
# version N LABEL V: how many answers of that report came from backend version V.
version() {
  report "$1" "$2" | awk -v v="$3" 'NR == 2 && /answered by backend/ {
    for (i = 1; i < NF; i++) if ($i == v) n = $(i + 1) } END { print n + 0 }'
}
# said N REGEX: a number the demo printed in step N, the first group of REGEX.
said() { section "$1" | sed -nE "s/.*$2.*/\1/p" | head -n1; }

# gone PID WORK: nothing of the run PID is left: namespaces, work folder, processes.
gone() {
  local pid=$1 dir=$2 left
  expect "no namespace of run $pid is left" \
    test -z "$(ip netns list | grep -E "^weft-demo-$pid-" || true)"
  expect "its work folder $dir is removed" test ! -e "$dir"
  # Everything it started ran in its process group (set -m below); wait out reaping.
  for _ in $(seq 1 50); do
    left=$(ps -e -o pgid=,stat=,args= | awk -v s="$pid" '$1 == s && $2 !~ /^Z/' || true)
    [[ -z $left ]] && break
    sleep 0.1
  done
  expect "no process of its process group is left${left:+: $left}" test -z "$left"
}

echo "--- without root"
cp "$RUN" "$work/run.sh"
chmod 755 "$work" "$work/run.sh"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups bash "$work/run.sh" --fast >"$work/user.out" 2>&1 || rc=$?
cat "$work/user.out"
expect "as a user it exits 1 ($rc)" test "$rc" -eq 1
expect "saying it needs root" grep -q "needs root" "$work/user.out"
expect "and how to run it" grep -qF "sudo ./scripts/demo.sh" "$work/user.out"

# Job control: each run gets a process group of its own, as in a terminal, and
# does not inherit the SIGINT that a background job would ignore.
set -m
echo "--- the whole demo"
rc=0
MESH_DEADLINE=150 "$RUN" --fast --no-color >"$work/run.out" 2>&1 &
pid=$!
expect "the demo leads its own process group" test "$(ps -o pgid= -p "$pid" | tr -d " ")" = "$pid"
wait "$pid" || rc=$?
cat "$work/run.out"
dir=$(grep -oE '/tmp/weft-e2e-demo-[0-9]+-[A-Za-z0-9]+' "$work/run.out" | head -n1)
expect "the demo ran to its end (exit $rc)" test "$rc" -eq 0
expect "and said so" grep -q "^demo: done in" "$work/run.out"
expect "all 7 steps ran" test "$(grep -c '^== [1-7]/7 ' "$work/run.out")" -eq 7
expect "it printed a weftctl stat table per load" \
  test "$(grep -c '^NAME  *STATUS  *RPS  *SUCCESS  *P50  *P99  *MTLS' "$work/run.out")" -ge 10

read -r n ok failed _ < <(numbers 1 "client-0 -> frontend")
v1=$(version 1 "client-0 -> frontend" v1)
v2=$(version 1 "client-0 -> frontend" v2)
expect "1: the load ran ($n requests) and none failed ($failed), the flaky one's 503s retried" \
  test "$n" -ge 200 -a "$failed" -eq 0
expect "1: every answer came from v1 or v2 ($v1 + $v2 = $ok)" test $((v1 + v2)) -eq "$ok"
# 300 requests at p = 0.1: mean 30, sd 5.2; a split of 33 % or none at all is far off.
expect "1: the canary got about 10 % ($v2 of $ok)" between "$((v2 * 1000 / ok))" 30 190

read -r n ok failed _ < <(numbers 2 "client-0 -> frontend, backend-v1-flaky broken")
ejected=$(said 2 "ejected it ([0-9]+) time")
expect "2: with one instance failing every request none failed ($failed of $n)" \
  test "$n" -ge 100 -a "$failed" -eq 0
expect "2: its breaker opened ($ejected ejections)" test "${ejected:-0}" -ge 1
read -r n ok failed _ < <(numbers 2 "client-0 -> frontend, backend-v1-flaky fixed")
back=$(said 2 "backend-v1-flaky answered ([0-9]+) requests since it was fixed")
expect "2: fixed, it took its share again ($back requests), none failed ($failed)" \
  test "${back:-0}" -ge 10 -a "$failed" -eq 0

read -r n ok failed _ < <(numbers 3 "client-0 -> frontend, backend-v1-flaky killed")
before=$(said 3 "had answered ([0-9]+) requests of this step before it died")
expect "3: the killed instance was serving ($before requests in the step)" test "${before:-0}" -ge 10
expect "3: no request failed when it died ($failed of $n)" test "$n" -ge 100 -a "$failed" -eq 0

read -r _ _ failed p99 < <(numbers 4 "client-0 -> frontend, v2 slow")
expect "4: with v2 slow nothing failed ($failed)" test "$failed" -eq 0
expect "4: and p99 is near 900 ms ($p99 ms)" between "$p99" 850 3000
read -r n ok failed p99 < <(numbers 4 "client-0 -> frontend, 200 ms timeout")
timeouts=$(status 4 "client-0 -> frontend, 200 ms timeout" 504)
expect "4: with the 200 ms timeout the slow ones got 504 ($timeouts of $failed failures)" \
  test "$timeouts" -ge 1 -a "$timeouts" -eq "$failed"
expect "4: and p99 fell to about 200 ms, well below 900 ($p99 ms)" between "$p99" 195 850
expect "4: no answer of v2 arrived in time" \
  test "$(version 4 "client-0 -> frontend, 200 ms timeout" v2)" -eq 0

read -r n ok failed _ < <(numbers 5 "client-0 -> frontend, canary rolled back")
expect "5: the route change is visible: no answer from v2" \
  test "$(version 5 "client-0 -> frontend, canary rolled back" v2)" -eq 0
expect "5: all from v1, none failed ($ok of $n)" \
  test "$(version 5 "client-0 -> frontend, canary rolled back" v1)" -eq "$n" -a "$failed" -eq 0
expect "5: the edit reached the proxy" grep -q "the proxy of frontend-0 had it" <(section 5)

read -r n ok _ _ < <(numbers 6 "outsider -> frontend-0, plaintext, PERMISSIVE")
expect "6: PERMISSIVE serves plaintext ($ok of $n)" test "$n" -ge 10 -a "$ok" -eq "$n"
read -r n ok _ _ < <(numbers 6 "outsider -> frontend-0, plaintext, STRICT")
refused=$(status 6 "outsider -> frontend-0, plaintext, STRICT" 403)
expect "6: STRICT refuses plaintext with 403 ($refused of $n)" test "$n" -ge 10 -a "$refused" -eq "$n"
expect "6: saying why (weft-error: plaintext_refused)" \
  grep -q "HTTP 403, weft-error: plaintext_refused" <(section 6)
read -r n _ failed _ < <(numbers 6 "client-0 -> frontend, mTLS, STRICT")
expect "6: mTLS callers go on ($failed of $n failed)" test "$n" -ge 100 -a "$failed" -eq 0

read -r n ok _ _ < <(numbers 7 "client-0 -> backend directly")
denied=$(status 7 "client-0 -> backend directly" 403)
expect "7: the AccessPolicy denies client-0 with 403 ($denied of $n)" \
  test "$n" -ge 10 -a "$denied" -eq "$n"
expect "7: saying why (weft-error: forbidden)" grep -q "HTTP 403, weft-error: forbidden" <(section 7)
expect "7: the backends' proxies counted the denials" \
  test "$(said 7 "proxies denied ([0-9]+) requests")" -ge "$n"
read -r n _ failed _ < <(numbers 7 "client-0 -> frontend")
expect "7: frontend, which may call backend, is served ($failed of $n failed)" \
  test "$n" -ge 100 -a "$failed" -eq 0
gone "$pid" "$dir"

echo "--- Ctrl-C mid-run"
MESH_DEADLINE=150 "$RUN" --fast --no-color >"$work/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q '^== 2/7 ' "$work/int.out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
sleep 1
dir=$(grep -oE '/tmp/weft-e2e-demo-[0-9]+-[A-Za-z0-9]+' "$work/int.out" | head -n1)
expect "it reached step 2 and runs its load" grep -q '^== 2/7 ' "$work/int.out"
# What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
kill -INT -- "-$pid"
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
rc=0
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL -- "-$pid"
  rc=timeout
fi
wait "$pid" || rc=$?
cat "$work/int.out"
expect "it stopped within 30 s with 130 ($rc)" test "$rc" = 130
expect "saying so" grep -q "demo: interrupted" "$work/int.out"
gone "$pid" "$dir"

if ((failures > 0)); then
  echo "FAIL: $failures checks failed" >&2
  exit 1
fi
echo "PASS"
