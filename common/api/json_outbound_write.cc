// Outbound documents: JSON out, every field written so the output documents itself.
#include "common/api/json_reader.h"

namespace weft::api {
namespace {

using detail::Json;

Json retryOnJson(const std::vector<RetryOn>& on) {
  Json out = Json::array();
  for (const auto& o : on) {
    out.push_back(toString(o));
  }
  return out;
}

Json backoffJson(const Backoff& b) {
  return {{"base", formatDuration(b.base)}, {"max", formatDuration(b.max)}};
}

// "" for none, as written in documents.
std::string timeoutText(Duration d) { return d == kNoTimeout ? "" : formatDuration(d); }

Json headerModifierJson(const HeaderModifier& h) {
  return {{"set", h.set}, {"add", h.add}, {"remove", h.remove}};
}

Json routeJson(const Route& route) {
  Json out = Json::object();
  out["name"] = route.name;
  Json matches = Json::array();
  for (const auto& m : route.matches) {
    Json jm = Json::object();
    if (m.path) {
      jm["path"] = {{"type", toString(m.path->type)}, {"value", m.path->value}};
    }
    if (!m.method.empty()) {
      jm["method"] = m.method;
    }
    for (const auto& [key, list] :
         {std::pair{"headers", &m.headers}, std::pair{"queryParams", &m.queryParams}}) {
      Json items = Json::array();
      for (const auto& v : *list) {
        items.push_back({{"name", v.name}, {"type", toString(v.type)}, {"value", v.value}});
      }
      jm[key] = std::move(items);
    }
    matches.push_back(std::move(jm));
  }
  out["matches"] = std::move(matches);
  Json backends = Json::array();
  for (const auto& b : route.backends) {
    backends.push_back({{"name", b.name}, {"weight", b.weight}});
  }
  out["backends"] = std::move(backends);
  if (route.timeout) {
    out["timeout"] = timeoutText(*route.timeout);
  }
  if (route.retries) {
    Json r = Json::object();
    if (route.retries->attempts) {
      r["attempts"] = *route.retries->attempts;
    }
    if (route.retries->on) {
      r["on"] = retryOnJson(*route.retries->on);
    }
    if (route.retries->nonIdempotent) {
      r["nonIdempotent"] = *route.retries->nonIdempotent;
    }
    if (route.retries->backoff) {
      r["backoff"] = backoffJson(*route.retries->backoff);
    }
    out["retries"] = std::move(r);
  }
  out["requestHeaders"] = headerModifierJson(route.requestHeaders);
  out["responseHeaders"] = headerModifierJson(route.responseHeaders);
  if (route.fault) {
    Json f = Json::object();
    if (route.fault->delay) {
      f["delay"] = {{"duration", formatDuration(route.fault->delay->duration)},
                    {"percent", route.fault->delay->percent}};
    }
    if (route.fault->abort) {
      f["abort"] = {{"status", route.fault->abort->status},
                    {"percent", route.fault->abort->percent}};
    }
    out["fault"] = std::move(f);
  }
  if (route.mirror) {
    out["mirror"] = {{"backend", route.mirror->backend}, {"percent", route.mirror->percent}};
  }
  return out;
}

}  // namespace

Json toJson(const Outbound& doc) {
  const Policy& p = doc.policy;
  Json policy = {
      {"loadBalancer", toString(p.loadBalancer)},
      {"timeouts",
       {{"connect", timeoutText(p.timeouts.connect)},
        {"request", timeoutText(p.timeouts.request)},
        {"perTry", timeoutText(p.timeouts.perTry)},
        {"idle", timeoutText(p.timeouts.idle)}}},
      {"retries",
       {{"attempts", p.retries.attempts},
        {"on", retryOnJson(p.retries.on)},
        {"nonIdempotent", p.retries.nonIdempotent},
        {"backoff", backoffJson(p.retries.backoff)},
        {"budget",
         {{"ratio", p.retries.budget.ratio}, {"minPerSecond", p.retries.budget.minPerSecond}}}}},
      {"circuitBreaker",
       {{"maxConnections", p.circuitBreaker.maxConnections},
        {"maxPendingRequests", p.circuitBreaker.maxPendingRequests},
        {"maxRequests", p.circuitBreaker.maxRequests}}},
      {"outlierDetection",
       {{"consecutiveFailures", p.outlierDetection.consecutiveFailures},
        {"baseEjection", formatDuration(p.outlierDetection.baseEjection)},
        {"maxEjectionPercent", p.outlierDetection.maxEjectionPercent}}},
  };
  Json backends = Json::object();
  for (const auto& [name, backend] : doc.backends) {
    Json endpoints = Json::array();
    for (const auto& e : backend.endpoints) {
      endpoints.push_back({{"address", e.address},
                           {"weight", e.weight},
                           {"zone", e.zone},
                           {"ready", e.ready},
                           {"terminating", e.terminating},
                           {"meshed", e.meshed},
                           {"identity", e.identity},
                           {"labels", e.labels}});
    }
    backends[name] = {{"endpoints", std::move(endpoints)}};
  }
  Json routes = Json::array();
  for (const auto& route : doc.routes) {
    routes.push_back(routeJson(route));
  }
  return {{"kind", "Outbound"},
          {"version", doc.version},
          {"authority", doc.authority},
          {"aliases", doc.aliases},
          {"protocol", toString(doc.protocol)},
          {"policy", std::move(policy)},
          {"backends", std::move(backends)},
          {"routes", std::move(routes)}};
}

}  // namespace weft::api
