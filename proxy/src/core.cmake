# Sources of weft_proxy besides src/app/app.cc, relative to proxy/.
set(WEFT_PROXY_CORE_SOURCES
  src/admin/admin_server.cc
  src/app/connection.cc
  src/app/server.cc
  src/http/framing.cc
  src/http/attempt.cc
  src/http/body.cc
  src/http/exchange.cc
  src/http/http1_proxy.cc
  src/metrics/proxy_metrics.cc
  src/net/address.cc
  src/net/upstream.cc
  src/net/worker.cc
  src/tcp/detect.cc
  src/tcp/relay.cc
)
