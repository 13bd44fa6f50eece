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
