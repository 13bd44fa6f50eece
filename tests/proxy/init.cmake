# Tests for the proxy's init area (`weft-proxy init`, the iptables redirect).
weft_test(proxy_init_test LABEL unit
  SOURCES init/rules_test.cc init/init_test.cc init/command_test.cc
  LIBS weft_proxy_init)

# The real redirect in network namespaces (root; skipped otherwise), with a
# tiny listener/client that reports SO_ORIGINAL_DST.
add_executable(weft_redirect_probe init/redirect_probe.cc)
target_link_libraries(weft_redirect_probe PRIVATE weft_warnings)
weft_test(proxy_init_redirect_test LABEL integration TIMEOUT 180
  SOURCES init/redirect_netns_test.cc
  LIBS weft_test_support)
target_compile_definitions(proxy_init_redirect_test PRIVATE
  WEFT_PROXY_BIN="$<TARGET_FILE:weft-proxy>"
  WEFT_REDIRECT_PROBE="$<TARGET_FILE:weft_redirect_probe>")
add_dependencies(proxy_init_redirect_test weft-proxy weft_redirect_probe)

# tests/e2e/lib/netns.sh, the namespace helpers the e2e tests and demo use.
add_test(NAME proxy_init_netns_sh_test
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/init/netns_sh_test.sh
          $<TARGET_FILE:weft_redirect_probe> $<TARGET_FILE:weft-proxy>)
set_tests_properties(proxy_init_netns_sh_test PROPERTIES LABELS integration TIMEOUT 60
  SKIP_REGULAR_EXPRESSION "SKIP: ")
