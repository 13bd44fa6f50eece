# Tests for the proxy's policy area (lb/, resilience/, route/): unit tests, no sockets.
weft_test(proxy_resilience_test LABEL unit
  SOURCES resilience/random_test.cc resilience/backoff_test.cc resilience/retry_budget_test.cc
          resilience/retry_test.cc resilience/outlier_detector_test.cc resilience/limits_test.cc
          resilience/readiness_test.cc
  LIBS weft_proxy_policy)
weft_test(proxy_lb_test LABEL unit
  SOURCES lb/peak_ewma_test.cc lb/load_balancer_test.cc lb/p2c_test.cc lb/round_robin_test.cc
          lb/request_scenario_test.cc lb/churn_test.cc
  LIBS weft_proxy_policy)
weft_test(proxy_route_test LABEL unit
  SOURCES route/headers_test.cc route/route_table_test.cc route/fault_test.cc
          route/from_api_test.cc
  LIBS weft_proxy_policy)
weft_test(proxy_authz_test LABEL unit
  SOURCES authz/authorizer_test.cc
  LIBS weft_proxy_policy)
