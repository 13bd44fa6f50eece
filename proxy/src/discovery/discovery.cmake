# weft_proxy_discovery: the proxy's client of the control plane's discovery streams.
weft_add_library(weft_proxy_discovery SOURCES
  src/discovery/backoff.cc
  src/discovery/state.cc
  src/discovery/client.cc
  src/discovery/control_plane.cc
  PUBLIC_LIBS weft_proxy_config
  PRIVATE_LIBS weft_asio OpenSSL::SSL OpenSSL::Crypto)
