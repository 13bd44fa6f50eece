# weft_proxy_discovery: the proxy's client of the control plane's discovery streams.
weft_add_library(weft_proxy_discovery SOURCES
  src/discovery/backoff.cc
  src/discovery/state.cc
  src/discovery/client.cc
  PUBLIC_LIBS weft_proxy_config
  PRIVATE_LIBS weft_asio OpenSSL::SSL OpenSSL::Crypto)
# GCC 12 misreads Asio's awaitable frame allocator as a new/delete mismatch (a false positive
# on every co_spawn of a member coroutine).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(weft_proxy_discovery PRIVATE -Wno-mismatched-new-delete)
endif()
