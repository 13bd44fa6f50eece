# weft_operator_kube: the Kubernetes side of the operator (owned by "kube"):
# informer cache, work queue and workers, the Kubernetes Source and the
# StatusWriter that writes /status and Events to the API server.
weft_add_library(weft_operator_kube SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/shared_cache.cc
  ${CMAKE_CURRENT_LIST_DIR}/../queue/work_queue.cc
  ${CMAKE_CURRENT_LIST_DIR}/../queue/workers.cc
  ${CMAKE_CURRENT_LIST_DIR}/../source/kube_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/../source/kube_status_writer.cc
  PUBLIC_LIBS weft_common weft_kube weft_operator_core)
target_precompile_headers(weft_operator_kube REUSE_FROM weft_common)
