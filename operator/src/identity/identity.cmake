# weft_operator_identity: the mesh CA (issuer lifecycle, certify decisions,
# TokenReview) and the injector's serving certificate.
weft_add_library(weft_operator_identity SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/ca.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_review.cc
  ${CMAKE_CURRENT_LIST_DIR}/certifier.cc
  ${CMAKE_CURRENT_LIST_DIR}/secrets.cc
  ${CMAKE_CURRENT_LIST_DIR}/keeper.cc
  ${CMAKE_CURRENT_LIST_DIR}/injector_certs.cc
  ${CMAKE_CURRENT_LIST_DIR}/discovery_cert.cc
  PUBLIC_LIBS weft_common weft_tls weft_kube
  PRIVATE_LIBS weft_api)
