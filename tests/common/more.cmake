# Tests for common/api, kube, metrics, http.
