// Mapping of common/api documents onto the settings of lb/, resilience/ and route/.
#include "proxy/src/route/from_api.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace weft::proxy::route {

namespace {

Error invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

PathMatch::Type pathType(api::PathMatchType type) {
  switch (type) {
    case api::PathMatchType::kExact:
      return PathMatch::Type::kExact;
    case api::PathMatchType::kRegularExpression:
      return PathMatch::Type::kRegularExpression;
    case api::PathMatchType::kPathPrefix:
      break;
  }
  return PathMatch::Type::kPathPrefix;
}

ValueMatchType valueType(api::ValueMatchType type) {
  switch (type) {
    case api::ValueMatchType::kRegularExpression:
      return ValueMatchType::kRegularExpression;
    case api::ValueMatchType::kPresent:
      return ValueMatchType::kPresent;
    case api::ValueMatchType::kExact:
      break;
  }
  return ValueMatchType::kExact;
}

HeaderModifierSettings modifierFrom(const api::HeaderModifier& m) {
  HeaderModifierSettings out;
  out.set.assign(m.set.begin(), m.set.end());
  out.add.assign(m.add.begin(), m.add.end());
  out.remove = m.remove;
  return out;
}

Result<FaultSettings> faultFrom(const api::Fault& fault) {
  FaultSettings out;
  if (fault.delay) {
    out.delay = FaultDelay{fault.delay->duration, fault.delay->percent};
  }
  if (fault.abort) {
    if (fault.abort->status < 200 || fault.abort->status > 599) {
      return invalid("fault.abort.status must be within [200, 599]");
    }
    out.abort = FaultAbort{static_cast<std::uint16_t>(fault.abort->status), fault.abort->percent};
  }
  return out;
}

Result<RouteSettings> routeFrom(const api::Route& route, const api::Policy& policy) {
  RouteSettings out;
  out.name = route.name;
  for (const auto& match : route.matches) {
    MatchSettings m;
    if (match.path) {
      m.path = PathMatch{pathType(match.path->type), match.path->value};
    }
    m.method = match.method;
    for (const auto& h : match.headers) {
      m.headers.push_back(HeaderMatch{h.name, valueType(h.type), h.value});
    }
    for (const auto& q : match.queryParams) {
      m.queryParams.push_back(QueryParamMatch{q.name, valueType(q.type), q.value});
    }
    out.matches.push_back(std::move(m));
  }
  for (const auto& backend : route.backends) {
    if (backend.weight < 0 || backend.weight > RouteTable::kMaxWeight) {
      return invalid("backends: weight of \"" + backend.name + "\" must be within [0, 1000000]");
    }
    out.backends.push_back(BackendRef{backend.name, static_cast<std::uint32_t>(backend.weight)});
  }
  if (route.timeout) {
    out.timeout = std::chrono::duration_cast<Clock::Duration>(*route.timeout);
  }
  if (route.retries) {
    auto retries = retrySettingsFrom(api::applyOverride(policy.retries, *route.retries));
    if (!retries) {
      return retries.error();
    }
    out.retries = std::move(*retries);
  }
  out.requestHeaders = modifierFrom(route.requestHeaders);
  out.responseHeaders = modifierFrom(route.responseHeaders);
  if (route.fault) {
    auto fault = faultFrom(*route.fault);
    if (!fault) {
      return fault.error();
    }
    out.fault = *fault;
  }
  if (route.mirror) {
    out.mirror = MirrorSettings{route.mirror->backend, route.mirror->percent};
  }
  return out;
}

}  // namespace

lb::Algorithm algorithmFrom(api::LoadBalancerKind kind) {
  switch (kind) {
    case api::LoadBalancerKind::kRoundRobin:
      return lb::Algorithm::kRoundRobin;
    case api::LoadBalancerKind::kLeastRequest:
      return lb::Algorithm::kLeastRequest;
    case api::LoadBalancerKind::kP2cEwma:
      break;
  }
  return lb::Algorithm::kP2cEwma;
}

Result<resilience::OutlierSettings> outlierSettingsFrom(const api::OutlierDetection& outliers) {
  if (outliers.consecutiveFailures < 0 || outliers.maxEjectionPercent < 0) {
    return invalid("outlierDetection: negative value");
  }
  resilience::OutlierSettings out;
  out.consecutiveFailures = static_cast<std::uint32_t>(outliers.consecutiveFailures);
  out.baseEjection = outliers.baseEjection;
  out.maxEjection = std::max<Clock::Duration>(out.maxEjection, out.baseEjection);
  out.maxEjectionPercent = static_cast<std::uint32_t>(outliers.maxEjectionPercent);
  if (auto r = resilience::validate(out); !r) {
    return r.error();
  }
  return out;
}

Result<lb::BalancerSettings> balancerSettingsFrom(const api::Policy& policy) {
  auto outliers = outlierSettingsFrom(policy.outlierDetection);
  if (!outliers) {
    return outliers.error();
  }
  lb::BalancerSettings out;
  out.algorithm = algorithmFrom(policy.loadBalancer);
  out.outliers = *outliers;
  return out;
}

Result<resilience::RetrySettings> retrySettingsFrom(const api::Retries& retries) {
  resilience::RetrySettings out;
  if (retries.attempts < 1) {
    return invalid("retries.attempts must be at least 1");
  }
  out.attempts = static_cast<std::uint32_t>(retries.attempts);
  out.on = resilience::RetryOn{};
  out.on.statuses.clear();
  for (const auto& on : retries.on) {
    switch (on.kind) {
      case api::RetryOn::Kind::kConnectFailure:
        break;  // always retried: see resilience::RetryOn
      case api::RetryOn::Kind::kReset:
        out.on.reset = true;
        break;
      case api::RetryOn::Kind::kServerError:
        out.on.serverError = true;
        break;
      case api::RetryOn::Kind::kGatewayError:
        out.on.gatewayError = true;
        break;
      case api::RetryOn::Kind::kStatus:
        if (on.status < 100 || on.status > 599) {
          return invalid("retries.on: status " + std::to_string(on.status) + " out of range");
        }
        const auto status = static_cast<std::uint16_t>(on.status);
        if (std::find(out.on.statuses.begin(), out.on.statuses.end(), status) ==
            out.on.statuses.end()) {
          out.on.statuses.push_back(status);
        }
        break;
    }
  }
  out.nonIdempotent = retries.nonIdempotent;
  out.backoff = resilience::BackoffSettings{retries.backoff.base, retries.backoff.max};
  out.budget.ratio = retries.budget.ratio;
  out.budget.minPerSecond = retries.budget.minPerSecond;
  if (auto r = resilience::validate(out); !r) {
    return r.error();
  }
  return out;
}

Result<resilience::LimitSettings> limitSettingsFrom(const api::CircuitBreaker& breaker) {
  resilience::LimitSettings out{breaker.maxConnections, breaker.maxPendingRequests,
                                breaker.maxRequests};
  if (auto r = resilience::validate(out); !r) {
    return r.error();
  }
  return out;
}

std::vector<lb::Endpoint> endpointsFrom(const api::Backend& backend) {
  std::vector<lb::Endpoint> out;
  out.reserve(backend.endpoints.size());
  constexpr std::int64_t kMax = std::numeric_limits<std::uint32_t>::max();
  for (const auto& ep : backend.endpoints) {
    const auto weight = static_cast<std::uint32_t>(std::clamp<std::int64_t>(ep.weight, 0, kMax));
    out.push_back(lb::Endpoint{ep.address, weight, ep.ready && !ep.terminating});
  }
  return out;
}

Result<RouteTable> routeTableFrom(const api::Outbound& outbound) {
  std::vector<RouteSettings> routes;
  routes.reserve(outbound.routes.size());
  for (std::size_t i = 0; i < outbound.routes.size(); ++i) {
    auto route = routeFrom(outbound.routes[i], outbound.policy);
    if (!route) {
      const auto& name = outbound.routes[i].name;
      return route.error().context("routes[" + std::to_string(i) + "]" +
                                   (name.empty() ? "" : " (" + name + ")"));
    }
    routes.push_back(std::move(*route));
  }
  return RouteTable::create(std::move(routes), outbound.authority);
}

}  // namespace weft::proxy::route
