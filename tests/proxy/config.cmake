# Tests for the proxy's config area.
weft_test(proxy_config_test LABEL unit
  SOURCES config/snapshot_test.cc config/loader_test.cc config/file_watcher_test.cc
  LIBS weft_proxy_config)
# With its headers from the PCH, GCC 12 reports a false -Warray-bounds in the
# std::string code inlined here.
set_source_files_properties(config/loader_test.cc PROPERTIES SKIP_PRECOMPILE_HEADERS ON)

# Discovery client: pure parts plus a real HTTPS stream server on loopback.
weft_test(proxy_discovery_test LABEL unit
  SOURCES discovery/backoff_test.cc discovery/state_test.cc discovery/client_test.cc
          discovery/test_tls.cc discovery/fake_discovery_server.cc
  LIBS weft_proxy_discovery weft_asio OpenSSL::SSL OpenSSL::Crypto)
