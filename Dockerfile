# Weft images: one build stage, one small non-root runtime image holding the
# proxy, operator and injector (the chart picks the binary per Deployment).
# Build: docker build -t weft:0.1.0 .

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
 && cmake --build /build \
 && install -D -m 0755 /build/proxy/weft-proxy /out/usr/local/bin/weft-proxy \
 && install -D -m 0755 /build/operator/weft-operator /out/usr/local/bin/weft-operator \
 && install -D -m 0755 /build/webhook/weft-injector /out/usr/local/bin/weft-injector \
 && install -D -m 0755 /build/cli/weftctl /out/usr/local/bin/weftctl

FROM debian:12-slim
# Runtime libraries only; iptables for `weft-proxy init` in the init container.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libssl3 libcpprest2.10 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libboost-system1.74.0 libnghttp2-14 libre2-9 iptables \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 2102 weft && useradd --uid 2102 --gid 2102 --no-create-home --shell /usr/sbin/nologin weft
COPY --from=build /out/ /
# 2102 is the proxy UID that the redirect exempts (see DESIGN.md).
USER 2102:2102
ENTRYPOINT ["/usr/local/bin/weft-proxy"]
