# Tests for common/api, kube, metrics, http.

weft_test(metrics_test LABEL unit SOURCES metrics/metrics_test.cc LIBS weft_metrics)
add_subdirectory(api)
add_subdirectory(http)
include(kube/kube.cmake)
weft_test(tls_test LABEL unit SOURCES tls/pki_test.cc LIBS weft_tls)
