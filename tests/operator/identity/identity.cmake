# The mesh CA: issuer lifecycle and certify decisions (unit), the operator's
# Secrets, ConfigMap, webhook and TokenReview against the fake API server, and
# the real weft-operator issuing certificates over HTTPS (kube and dir mode).
weft_test(operator_identity_test LABEL unit
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/ca_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/certifier_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/discovery_cert_test.cc
  LIBS weft_operator_identity OpenSSL::Crypto)
weft_test(operator_identity_kube_test LABEL integration
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/keeper_test.cc
  LIBS weft_operator_identity weft_fake_apiserver weft_kube
  TIMEOUT 120)
weft_test(operator_identity_process_test LABEL integration
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/identity_process_test.cc
  LIBS weft_operator_test_client weft_test_support weft_fake_apiserver weft_kube weft_tls
    weft_common
  TIMEOUT 120)
target_compile_definitions(operator_identity_process_test PRIVATE
  WEFT_OPERATOR_BIN="$<TARGET_FILE:weft-operator>")
add_dependencies(operator_identity_process_test weft-operator)
