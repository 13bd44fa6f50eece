// The policy area's settings from the documents of common/api (docs/api.md), for core to use.
#pragma once

#include <vector>

#include "common/api/documents.h"
#include "common/result.h"
#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/resilience/limits.h"
#include "proxy/src/resilience/retry.h"
#include "proxy/src/route/route_table.h"

namespace weft::proxy::route {

// Values the document parser already validated map one to one; anything out of
// range for these settings is refused with the field named, never wrapped or
// silently clamped.

lb::Algorithm algorithmFrom(api::LoadBalancerKind kind);
// policy.loadBalancer and policy.outlierDetection.
Result<lb::BalancerSettings> balancerSettingsFrom(const api::Policy& policy);
Result<resilience::OutlierSettings> outlierSettingsFrom(const api::OutlierDetection& outliers);
// policy.retries, or a route's retries after api::applyOverride.
Result<resilience::RetrySettings> retrySettingsFrom(const api::Retries& retries);
// policy.circuitBreaker.
Result<resilience::LimitSettings> limitSettingsFrom(const api::CircuitBreaker& breaker);
// backends.<name>.endpoints: ready means ready and not terminating; weights
// above 2^32 - 1 are capped (they only set proportions).
std::vector<lb::Endpoint> endpointsFrom(const api::Backend& backend);
// routes, with each route's retries merged over policy.retries; no routes
// means everything to the backend named like the authority.
Result<RouteTable> routeTableFrom(const api::Outbound& outbound);

}  // namespace weft::proxy::route
