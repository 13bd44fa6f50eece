#!/usr/bin/env bash
# Installs everything Weft needs to build, test and run its demo on Debian 12.
# Idempotent: does nothing (and needs no network) when every package is present.
set -euo pipefail

# Build toolchain and libraries (all from Debian; Boost stays 1.74 because
# Debian's cpprestsdk is built against it).
BUILD_PKGS=(
  build-essential g++ cmake ninja-build pkg-config ccache
  libboost-dev libboost-system-dev libboost-random-dev libboost-thread-dev
  libboost-filesystem-dev libboost-chrono-dev libboost-atomic-dev
  libboost-date-time-dev libboost-regex-dev zlib1g-dev libssl-dev openssl
  libcpprest-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest nlohmann-json3-dev libcli11-dev
  libnghttp2-dev libre2-dev
)
# What the tests, the demo and the benchmarks run for real.
RUN_PKGS=(
  ca-certificates iproute2 iptables procps psmisc curl wrk tcpdump haproxy nginx-light
  valgrind strace
  clang libclang-rt-14-dev clang-format
  nodejs unzip
)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install-deps: need root to install packages; run as root or install sudo" >&2
    exit 1
  fi
}

missing=()
# Debian's npm only when no npm came with the installed Node.js (NodeSource's
# nodejs bundles it and conflicts with the separate package).
command -v npm >/dev/null 2>&1 || missing+=(npm)
for p in "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packaged servers are only benchmark peers: never leave them running.
  for svc in nginx haproxy; do
    if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  done
else
  echo "install-deps: all packages present"
fi

# Node.js packages for the tests (CEL evaluation of the CRD rules), pinned by
# tests/crds/package-lock.json; reinstalled only when the lock file changes.
cd "$(dirname "$0")/.."
lock=tests/crds/package-lock.json
stamp=tests/crds/node_modules/.weft-lock
if [[ ! -f $stamp ]] || ! cmp -s "$lock" "$stamp"; then
  echo "install-deps: npm ci --prefix tests/crds"
  npm ci --prefix tests/crds --no-audit --no-fund --loglevel=error
  cp "$lock" "$stamp"
fi
