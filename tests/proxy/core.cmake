# Tests for the proxy's core area: unit tests beside the sources' mirror, and
# integration tests running the real weft-proxy against real backends.
weft_test(proxy_core_test LABEL unit
  SOURCES http/framing_test.cc tcp/detect_test.cc net/address_test.cc net/upstream_test.cc
          tls/credentials_test.cc
  LIBS weft_proxy weft_fake_control_plane)

weft_test(proxy_integration_test LABEL integration TIMEOUT 300
  SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/proxy_harness.cc
          ${PROJECT_SOURCE_DIR}/tests/integration/proxy_http_test.cc
          ${PROJECT_SOURCE_DIR}/tests/integration/proxy_resilience_test.cc
          ${PROJECT_SOURCE_DIR}/tests/integration/proxy_tcp_test.cc
          ${PROJECT_SOURCE_DIR}/tests/integration/proxy_lifecycle_test.cc
  LIBS weft_test_support)
target_compile_definitions(proxy_integration_test PRIVATE
  WEFT_PROXY_BIN="$<TARGET_FILE:weft-proxy>"
  WEFT_TEST_BACKEND_BIN="$<TARGET_FILE:weft-test-backend>")
add_dependencies(proxy_integration_test weft-proxy weft-test-backend)

# Transparent redirect in a private network namespace (root; skipped otherwise).
weft_test(proxy_netns_test LABEL integration TIMEOUT 120
  SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/proxy_harness.cc
          ${PROJECT_SOURCE_DIR}/tests/integration/proxy_netns_test.cc
  LIBS weft_test_support)
target_compile_definitions(proxy_netns_test PRIVATE
  WEFT_PROXY_BIN="$<TARGET_FILE:weft-proxy>"
  WEFT_TEST_BACKEND_BIN="$<TARGET_FILE:weft-test-backend>")
add_dependencies(proxy_netns_test weft-proxy weft-test-backend)
