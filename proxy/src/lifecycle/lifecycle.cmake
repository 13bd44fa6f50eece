# weft_proxy_lifecycle: `weft-proxy wait` and `weft-proxy drain`, clients of
# the admin port for the first-container layout's hooks.
weft_add_library(weft_proxy_lifecycle SOURCES
  src/lifecycle/lifecycle.cc
  src/lifecycle/command.cc
  PUBLIC_LIBS weft_common
  PRIVATE_LIBS weft_api weft_asio)
