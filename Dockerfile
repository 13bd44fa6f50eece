# Weft images, one target per binary; the Helm chart runs
# <image.registry>/<target>:<tag> for each (helm/weft/values.yaml):
#   docker build --target weft-operator -t ghcr.io/weft-mesh/weft-operator:0.1.0 .
#   docker build --target weft-injector -t ghcr.io/weft-mesh/weft-injector:0.1.0 .
#   docker build --target weft-proxy    -t ghcr.io/weft-mesh/weft-proxy:0.1.0 .
#   docker build --target weftctl       -t ghcr.io/weft-mesh/weftctl:0.1.0 .
# Every target runs as UID/GID 2102, never root (tests/helm checks it).

FROM debian:12-slim AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential g++ cmake ninja-build pkg-config \
      libboost-dev libboost-system-dev libboost-random-dev libboost-thread-dev \
      libboost-filesystem-dev libboost-chrono-dev libboost-atomic-dev \
      libboost-date-time-dev libboost-regex-dev zlib1g-dev libssl-dev \
      libcpprest-dev libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev \
      libcli11-dev libnghttp2-dev libgtest-dev libgmock-dev libre2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF \
 && cmake --build /build --target weft-proxy weft-operator weft-injector weftctl \
 && install -D -m 0755 /build/proxy/weft-proxy /out/proxy/usr/local/bin/weft-proxy \
 && install -D -m 0755 /build/operator/weft-operator /out/operator/usr/local/bin/weft-operator \
 && install -D -m 0755 /build/webhook/weft-injector /out/injector/usr/local/bin/weft-injector \
 && install -D -m 0755 /build/cli/weftctl /out/cli/usr/local/bin/weftctl

# What every binary links at run time (tests/helm checks this list against
# the libraries the built binaries need).
FROM debian:12-slim AS runtime
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libssl3 libcpprest2.10 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libboost-system1.74.0 libnghttp2-14 libre2-9 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 2102 weft \
 && useradd --uid 2102 --gid 2102 --no-create-home --shell /usr/sbin/nologin weft
USER 2102:2102

FROM runtime AS weft-operator
COPY --from=build /out/operator/ /
USER 2102:2102
ENTRYPOINT ["/usr/local/bin/weft-operator"]

FROM runtime AS weft-injector
COPY --from=build /out/injector/ /
USER 2102:2102
ENTRYPOINT ["/usr/local/bin/weft-injector"]

FROM runtime AS weftctl
COPY --from=build /out/cli/ /
USER 2102:2102
ENTRYPOINT ["/usr/local/bin/weftctl"]

# The sidecar and its init step: `weft-proxy init` needs iptables. The init
# container runs as root with NET_ADMIN and NET_RAW only (set by the
# injector); the image itself runs as the proxy's UID, 2102, which the
# redirect exempts (DESIGN.md).
FROM runtime AS weft-proxy
USER root
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/proxy/ /
USER 2102:2102
ENTRYPOINT ["/usr/local/bin/weft-proxy"]
