# Operator-side Kubernetes tests (owned by "kube"): work queue semantics, the
# shared cache, and KubeSource + cache + workers against the fake API server.
weft_test(operator_queue_test LABEL unit
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/queue/work_queue_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/cache/shared_cache_test.cc
  LIBS weft_operator_kube)
weft_test(operator_kube_source_test LABEL integration
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/source/kube_source_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/source/kube_status_writer_test.cc
  LIBS weft_operator_kube weft_fake_apiserver
  TIMEOUT 120)
