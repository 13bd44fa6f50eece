# weft_proxy_discovery: the proxy's client of the control plane's discovery streams.
weft_add_library(weft_proxy_discovery SOURCES
  src/discovery/backoff.cc
  src/discovery/state.cc
  src/discovery/client.cc
  src/discovery/control_plane.cc
  src/discovery/trust.cc
  PUBLIC_LIBS weft_proxy_config
  PRIVATE_LIBS weft_asio weft_tls OpenSSL::SSL OpenSSL::Crypto)
