# Shell helpers the benchmarks share (sourced, not run).

# A port nothing listens on, below the ephemeral range (checked with /dev/tcp).
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 10000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "bench: no free port" >&2
  return 1
}
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listening on $1" >&2
  return 1
}
# CPU seconds (user+system) of a process and its threads and children.
cpu_of() {
  local total=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    total=$(awk -v t="$total" '{ printf "%d", t + $14 + $15 }' "/proc/$p/stat")
  done
  echo "$total"
}
hwm_kib() {
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
rss_kib() {
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# bench_options USAGE_LAST_LINE "$@": the options every wrk benchmark takes
# (-d SECONDS -c CONNECTIONS -w WORKERS -t WRK_THREADS) into DURATION, CONNS,
# WORKERS and WRK_THREADS; a bad option prints the script's header comment
# (lines 2..USAGE_LAST_LINE) and exits 2. Also sets ROOT, BUILD and the
# binaries every benchmark runs.
bench_options() {
  local usage=$1
  shift
  DURATION=5 CONNS=50 WORKERS=1 WRK_THREADS=1
  local o OPTIND=1
  while getopts "d:c:w:t:" o; do
    case "$o" in
      d) DURATION=$OPTARG ;;
      c) CONNS=$OPTARG ;;
      w) WORKERS=$OPTARG ;;
      t) WRK_THREADS=$OPTARG ;;
      *) sed -n "2,${usage}p" "$0"; exit 2 ;;
    esac
  done
  ROOT=$(cd "$(dirname "$0")/../.." && pwd)
  BUILD=${WEFT_BUILD_DIR:-$ROOT/build}
  PROXY_BIN=$BUILD/proxy/weft-proxy
  BACKEND_BIN=$BUILD/tests/support/weft-test-backend
}
