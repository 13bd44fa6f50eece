# Sources of weft_proxy_policy (lb/, resilience/, route/), relative to proxy/.
set(WEFT_PROXY_POLICY_SOURCES
  src/authz/authorizer.cc
  src/lb/load_balancer.cc
  src/lb/p2c.cc
  src/lb/peak_ewma.cc
  src/lb/round_robin.cc
  src/resilience/backoff.cc
  src/resilience/limits.cc
  src/resilience/outlier_detector.cc
  src/resilience/random.cc
  src/resilience/readiness.cc
  src/resilience/retry.cc
  src/resilience/retry_budget.cc
  src/route/fault.cc
  src/route/from_api.cc
  src/route/headers.cc
  src/route/regex.cc
  src/route/route_table.cc
)

# RE2 for route regular expressions: linear-time matching of untrusted input
# (std::regex backtracks and recurses per character). weft_api for
# route/from_api (documents -> settings). Both private to the library.
if(NOT TARGET PkgConfig::RE2)
  pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET GLOBAL re2)
endif()
set(WEFT_PROXY_POLICY_LIBS PkgConfig::RE2 weft_api)
