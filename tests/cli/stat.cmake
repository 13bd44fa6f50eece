# weftctl stat: the Prometheus parser, the math and the command (unit, real
# loopback sockets), and against real weft-proxy admin endpoints (integration).
weft_test(cli_stat_test LABEL unit
  SOURCES prometheus_text_test.cc golden_metrics_test.cc stat_test.cc
  LIBS weft_cli weft_metrics)

weft_test(cli_stat_proxy_test LABEL integration TIMEOUT 120
  SOURCES stat_proxy_test.cc ../integration/proxy_harness.cc
  LIBS weft_test_support weft_fake_control_plane)
target_compile_definitions(cli_stat_proxy_test PRIVATE
  WEFT_PROXY_BIN="$<TARGET_FILE:weft-proxy>"
  WEFT_TEST_BACKEND_BIN="$<TARGET_FILE:weft-test-backend>"
  WEFTCTL_BIN="$<TARGET_FILE:weftctl>")
add_dependencies(cli_stat_proxy_test weft-proxy weft-test-backend weftctl)
# With its headers from the PCH, GCC 12 reports a false -Warray-bounds in the
# std::string code inlined here.
set_source_files_properties(stat_proxy_test.cc PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
