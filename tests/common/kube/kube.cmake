# Tests for common/kube: the client against the fake API server (HTTPS, real
# sockets on 127.0.0.1), config loading, errors, rate limiting, leader election.
weft_test(kube_client_test LABEL integration
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/kube_client_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/reflector_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/leader_election_test.cc
  LIBS weft_kube weft_fake_apiserver
  TIMEOUT 120)
weft_test(kube_unit_test LABEL unit
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/config_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/kube_error_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/rate_limiter_test.cc
  LIBS weft_kube weft_fake_apiserver)
