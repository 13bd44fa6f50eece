// Outbound documents: JSON in, validated, errors naming the field.
#include <algorithm>
#include <cctype>

#include "common/api/json_reader.h"

namespace weft::api {
namespace {

using detail::child;
using detail::Json;
using detail::Reader;

constexpr std::int64_t kMaxWeight = 1'000'000;
constexpr std::int64_t kMaxLimit = 1'000'000'000;
constexpr int kMaxAttempts = 100;

bool readRetryOn(Reader& r, const Json& obj, const std::string& path, std::vector<RetryOn>& out) {
  if (!Reader::present(obj, "on")) {
    return true;
  }
  const Json& v = obj.at("on");
  const std::string p = child(path, "on");
  if (!r.array(v, p)) {
    return false;
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Json& item = v[i];
    std::string text = item.is_number_integer() ? json::dump(item)
                       : item.is_string()       ? item.get<std::string>()
                                                : std::string();
    RetryOn on;
    if (text == "connect-failure") {
      on.kind = RetryOn::Kind::kConnectFailure;
    } else if (text == "reset") {
      on.kind = RetryOn::Kind::kReset;
    } else if (text == "5xx") {
      on.kind = RetryOn::Kind::kServerError;
    } else if (text == "gateway-error") {
      on.kind = RetryOn::Kind::kGatewayError;
    } else if (text.size() == 3 && std::all_of(text.begin(), text.end(), ::isdigit) &&
               text >= "100" && text <= "599") {
      on.kind = RetryOn::Kind::kStatus;
      on.status = std::stoi(text);
    } else {
      return r.fail(child(p, i),
                    "expected connect-failure, reset, 5xx, gateway-error or a status code "
                    "100..599");
    }
    out.push_back(on);
  }
  return true;
}

bool readBackoff(Reader& r, const Json& node, const std::string& path, Backoff& out) {
  if (!r.object(node, path, {"base", "max"}) || !r.duration(node, path, "base", false, out.base) ||
      !r.duration(node, path, "max", false, out.max)) {
    return false;
  }
  if (out.max < out.base) {
    return r.fail(child(path, "max"), "must be >= base (" + formatDuration(out.base) + ")");
  }
  return true;
}

bool readRetries(Reader& r, const Json& node, const std::string& path, Retries& out) {
  if (!r.object(node, path, {"attempts", "on", "nonIdempotent", "backoff", "budget"}) ||
      !r.integer(node, path, "attempts", 1, kMaxAttempts, out.attempts) ||
      !readRetryOn(r, node, path, out.on) ||
      !r.boolean(node, path, "nonIdempotent", out.nonIdempotent)) {
    return false;
  }
  if (Reader::present(node, "backoff") &&
      !readBackoff(r, node.at("backoff"), child(path, "backoff"), out.backoff)) {
    return false;
  }
  if (Reader::present(node, "budget")) {
    const Json& b = node.at("budget");
    const std::string p = child(path, "budget");
    if (!r.object(b, p, {"ratio", "minPerSecond"}) ||
        !r.number(b, p, "ratio", 0, 1000, out.budget.ratio) ||
        !r.number(b, p, "minPerSecond", 0, 1e9, out.budget.minPerSecond)) {
      return false;
    }
  }
  return true;
}

bool readRetryOverride(Reader& r, const Json& node, const std::string& path, RetryOverride& out) {
  if (!r.object(node, path, {"attempts", "on", "nonIdempotent", "backoff"})) {
    return false;
  }
  if (Reader::present(node, "attempts")) {
    int attempts = 1;
    if (!r.integer(node, path, "attempts", 1, kMaxAttempts, attempts)) {
      return false;
    }
    out.attempts = attempts;
  }
  if (Reader::present(node, "on")) {
    out.on.emplace();
    if (!readRetryOn(r, node, path, *out.on)) {
      return false;
    }
  }
  if (Reader::present(node, "nonIdempotent")) {
    bool v = false;
    if (!r.boolean(node, path, "nonIdempotent", v)) {
      return false;
    }
    out.nonIdempotent = v;
  }
  if (Reader::present(node, "backoff")) {
    out.backoff.emplace();
    if (!readBackoff(r, node.at("backoff"), child(path, "backoff"), *out.backoff)) {
      return false;
    }
  }
  return true;
}

bool readPolicy(Reader& r, const Json& node, const std::string& path, Policy& out) {
  if (!r.object(node, path,
                {"loadBalancer", "timeouts", "retries", "circuitBreaker", "outlierDetection"}) ||
      !r.enumeration<LoadBalancerKind>(node, path, "loadBalancer",
                                       {{"p2c-ewma", LoadBalancerKind::kP2cEwma},
                                        {"round-robin", LoadBalancerKind::kRoundRobin},
                                        {"least-request", LoadBalancerKind::kLeastRequest}},
                                       out.loadBalancer)) {
    return false;
  }
  if (Reader::present(node, "timeouts")) {
    const Json& t = node.at("timeouts");
    const std::string p = child(path, "timeouts");
    if (!r.object(t, p, {"connect", "request", "perTry", "idle"}) ||
        !r.duration(t, p, "connect", true, out.timeouts.connect) ||
        !r.duration(t, p, "request", true, out.timeouts.request) ||
        !r.duration(t, p, "perTry", true, out.timeouts.perTry) ||
        !r.duration(t, p, "idle", true, out.timeouts.idle)) {
      return false;
    }
  }
  if (Reader::present(node, "retries") &&
      !readRetries(r, node.at("retries"), child(path, "retries"), out.retries)) {
    return false;
  }
  if (Reader::present(node, "circuitBreaker")) {
    const Json& c = node.at("circuitBreaker");
    const std::string p = child(path, "circuitBreaker");
    if (!r.object(c, p, {"maxConnections", "maxPendingRequests", "maxRequests"}) ||
        !r.integer(c, p, "maxConnections", 1, kMaxLimit, out.circuitBreaker.maxConnections) ||
        !r.integer(c, p, "maxPendingRequests", 0, kMaxLimit,
                   out.circuitBreaker.maxPendingRequests) ||
        !r.integer(c, p, "maxRequests", 1, kMaxLimit, out.circuitBreaker.maxRequests)) {
      return false;
    }
  }
  if (Reader::present(node, "outlierDetection")) {
    const Json& o = node.at("outlierDetection");
    const std::string p = child(path, "outlierDetection");
    if (!r.object(o, p, {"consecutiveFailures", "baseEjection", "maxEjectionPercent"}) ||
        !r.integer(o, p, "consecutiveFailures", 1, 1000,
                   out.outlierDetection.consecutiveFailures) ||
        !r.duration(o, p, "baseEjection", false, out.outlierDetection.baseEjection) ||
        !r.integer(o, p, "maxEjectionPercent", 0, 100, out.outlierDetection.maxEjectionPercent)) {
      return false;
    }
  }
  return true;
}

bool readEndpoint(Reader& r, const Json& node, const std::string& path, Endpoint& out) {
  if (!node.is_object()) {
    return r.fail(path, "expected an object");
  }
  if (!r.object(
          node, path,
          {"address", "weight", "zone", "ready", "terminating", "meshed", "identity", "labels"}) ||
      !r.str(node, path, "address", out.address) ||
      !r.integer(node, path, "weight", 0, kMaxWeight, out.weight) ||
      !r.str(node, path, "zone", out.zone) || !r.boolean(node, path, "ready", out.ready) ||
      !r.boolean(node, path, "terminating", out.terminating) ||
      !r.boolean(node, path, "meshed", out.meshed) ||
      !r.str(node, path, "identity", out.identity) ||
      !r.stringMap(node, path, "labels", out.labels)) {
    return false;
  }
  if (!Reader::present(node, "address")) {
    return r.fail(child(path, "address"), "required");
  }
  auto addr = parseIpPort(out.address);
  if (!addr) {
    return r.fail(child(path, "address"), addr.error().message);
  }
  out.address = addr->str();
  if (!out.identity.empty() && !detail::checkSpiffe(r, child(path, "identity"), out.identity)) {
    return false;
  }
  if (out.meshed && out.identity.empty()) {
    return r.fail(child(path, "identity"), "required when meshed is true");
  }
  return true;
}

bool readValueMatches(Reader& r, const Json& obj, const std::string& path, const char* key,
                      std::vector<ValueMatch>& out) {
  if (!Reader::present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const std::string p = child(path, key);
  if (!r.array(v, p)) {
    return false;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string ip = child(p, i);
    ValueMatch m;
    if (!v[i].is_object()) {
      return r.fail(ip, "expected an object {name, type, value}");
    }
    if (!r.object(v[i], ip, {"name", "type", "value"}) || !r.str(v[i], ip, "name", m.name) ||
        !r.enumeration<ValueMatchType>(v[i], ip, "type",
                                       {{"Exact", ValueMatchType::kExact},
                                        {"RegularExpression", ValueMatchType::kRegularExpression},
                                        {"Present", ValueMatchType::kPresent}},
                                       m.type) ||
        !r.str(v[i], ip, "value", m.value) ||
        !detail::checkToken(r, child(ip, "name"), m.name, "a name")) {
      return false;
    }
    if (m.type == ValueMatchType::kRegularExpression &&
        !detail::checkRegex(r, child(ip, "value"), m.value)) {
      return false;
    }
    if (m.type == ValueMatchType::kPresent && !m.value.empty()) {
      return r.fail(child(ip, "value"), "must be empty for type Present");
    }
    out.push_back(std::move(m));
  }
  return true;
}

bool readHeaderModifier(Reader& r, const Json& obj, const std::string& path, const char* key,
                        HeaderModifier& out) {
  if (!Reader::present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const std::string p = child(path, key);
  if (!r.object(v, p, {"set", "add", "remove"}) || !r.stringMap(v, p, "set", out.set) ||
      !r.stringMap(v, p, "add", out.add) || !r.strings(v, p, "remove", out.remove)) {
    return false;
  }
  for (const auto* m : {&out.set, &out.add}) {
    const char* which = m == &out.set ? "set" : "add";
    for (const auto& [name, value] : *m) {
      if (!detail::checkToken(r, child(child(p, which), name), name, "a header name")) {
        return false;
      }
      if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        return r.fail(child(child(p, which), name), "header value contains CR, LF or NUL");
      }
    }
  }
  for (std::size_t i = 0; i < out.remove.size(); ++i) {
    if (!detail::checkToken(r, child(child(p, "remove"), i), out.remove[i], "a header name")) {
      return false;
    }
  }
  return true;
}

bool readRoute(Reader& r, const Json& node, const std::string& path, Route& out) {
  if (!node.is_object()) {
    return r.fail(path, "expected an object");
  }
  if (!r.object(node, path,
                {"name", "matches", "backends", "timeout", "retries", "requestHeaders",
                 "responseHeaders", "fault", "mirror"}) ||
      !r.str(node, path, "name", out.name)) {
    return false;
  }
  if (Reader::present(node, "matches")) {
    const Json& ms = node.at("matches");
    const std::string p = child(path, "matches");
    if (!r.array(ms, p)) {
      return false;
    }
    for (std::size_t i = 0; i < ms.size(); ++i) {
      const std::string mp = child(p, i);
      RouteMatch m;
      if (!ms[i].is_object()) {
        return r.fail(mp, "expected an object");
      }
      if (!r.object(ms[i], mp, {"path", "method", "headers", "queryParams"}) ||
          !r.str(ms[i], mp, "method", m.method) ||
          !readValueMatches(r, ms[i], mp, "headers", m.headers) ||
          !readValueMatches(r, ms[i], mp, "queryParams", m.queryParams)) {
        return false;
      }
      if (!m.method.empty() && !detail::checkToken(r, child(mp, "method"), m.method, "a method")) {
        return false;
      }
      if (Reader::present(ms[i], "path")) {
        m.path.emplace();
        if (!detail::checkPathMatch(r, child(mp, "path"), ms[i].at("path"), *m.path)) {
          return false;
        }
      }
      out.matches.push_back(std::move(m));
    }
  }
  if (Reader::present(node, "backends")) {
    const Json& bs = node.at("backends");
    const std::string p = child(path, "backends");
    if (!r.array(bs, p)) {
      return false;
    }
    for (std::size_t i = 0; i < bs.size(); ++i) {
      const std::string bp = child(p, i);
      WeightedBackend b;
      if (!bs[i].is_object()) {
        return r.fail(bp, "expected an object {name, weight}");
      }
      if (!r.object(bs[i], bp, {"name", "weight"}) || !r.str(bs[i], bp, "name", b.name) ||
          !r.integer(bs[i], bp, "weight", 0, kMaxWeight, b.weight)) {
        return false;
      }
      out.backends.push_back(std::move(b));
    }
  }
  if (Reader::present(node, "timeout")) {
    out.timeout = kNoTimeout;
    if (!r.duration(node, path, "timeout", true, *out.timeout)) {
      return false;
    }
  }
  if (Reader::present(node, "retries")) {
    out.retries.emplace();
    if (!readRetryOverride(r, node.at("retries"), child(path, "retries"), *out.retries)) {
      return false;
    }
  }
  if (!readHeaderModifier(r, node, path, "requestHeaders", out.requestHeaders) ||
      !readHeaderModifier(r, node, path, "responseHeaders", out.responseHeaders)) {
    return false;
  }
  if (Reader::present(node, "fault")) {
    const Json& f = node.at("fault");
    const std::string p = child(path, "fault");
    out.fault.emplace();
    if (!r.object(f, p, {"delay", "abort"})) {
      return false;
    }
    if (Reader::present(f, "delay")) {
      const Json& d = f.at("delay");
      const std::string dp = child(p, "delay");
      auto& delay = out.fault->delay.emplace();
      if (!r.object(d, dp, {"duration", "percent"}) ||
          !r.duration(d, dp, "duration", false, delay.duration) ||
          !r.number(d, dp, "percent", 0, 100, delay.percent)) {
        return false;
      }
      if (!Reader::present(d, "duration")) {
        return r.fail(child(dp, "duration"), "required");
      }
    }
    if (Reader::present(f, "abort")) {
      const Json& a = f.at("abort");
      const std::string ap = child(p, "abort");
      auto& abort = out.fault->abort.emplace();
      if (!r.object(a, ap, {"status", "percent"}) ||
          !r.integer(a, ap, "status", 200, 599, abort.status) ||
          !r.number(a, ap, "percent", 0, 100, abort.percent)) {
        return false;
      }
    }
  }
  if (Reader::present(node, "mirror")) {
    const Json& m = node.at("mirror");
    const std::string p = child(path, "mirror");
    auto& mirror = out.mirror.emplace();
    if (!r.object(m, p, {"backend", "percent"}) || !r.str(m, p, "backend", mirror.backend) ||
        !r.number(m, p, "percent", 0, 100, mirror.percent)) {
      return false;
    }
  }
  return true;
}

bool readOutbound(Reader& r, const Json& doc, Outbound& out) {
  if (!r.object(doc, "",
                {"kind", "version", "authority", "aliases", "protocol", "policy", "backends",
                 "routes"}) ||
      !detail::readVersion(r, doc, out.version) || !r.str(doc, "", "authority", out.authority) ||
      !r.strings(doc, "", "aliases", out.aliases) ||
      !r.enumeration<Protocol>(doc, "", "protocol", detail::kProtocols, out.protocol)) {
    return false;
  }
  if (!Reader::present(doc, "authority")) {
    return r.fail("/authority", "required");
  }
  auto authority = parseAuthority(out.authority);
  if (!authority) {
    return r.fail("/authority", authority.error().message);
  }
  out.authority = authority->str();
  for (std::size_t i = 0; i < out.aliases.size(); ++i) {
    auto alias = parseAuthority(out.aliases[i]);
    if (!alias) {
      return r.fail(child("/aliases", i), alias.error().message);
    }
    out.aliases[i] = alias->str();
  }
  if (Reader::present(doc, "policy") && !readPolicy(r, doc.at("policy"), "/policy", out.policy)) {
    return false;
  }
  if (Reader::present(doc, "backends")) {
    const Json& bs = doc.at("backends");
    if (!bs.is_object()) {
      return r.fail("/backends", "expected an object of backends by name");
    }
    for (const auto& [name, b] : bs.items()) {
      const std::string p = child("/backends", name);
      Backend backend;
      if (!r.object(b, p, {"endpoints"})) {
        return false;
      }
      if (Reader::present(b, "endpoints")) {
        const Json& es = b.at("endpoints");
        const std::string ep = child(p, "endpoints");
        if (!r.array(es, ep)) {
          return false;
        }
        for (std::size_t i = 0; i < es.size(); ++i) {
          Endpoint e;
          if (!readEndpoint(r, es[i], child(ep, i), e)) {
            return false;
          }
          backend.endpoints.push_back(std::move(e));
        }
      }
      out.backends.emplace(name, std::move(backend));
    }
  }
  if (Reader::present(doc, "routes")) {
    const Json& rs = doc.at("routes");
    if (!r.array(rs, "/routes")) {
      return false;
    }
    if (out.protocol != Protocol::kHttp && !rs.empty()) {
      return r.fail("/routes", "routes need protocol http");
    }
    for (std::size_t i = 0; i < rs.size(); ++i) {
      Route route;
      const std::string p = child("/routes", i);
      if (!readRoute(r, rs[i], p, route)) {
        return false;
      }
      for (std::size_t j = 0; j < route.backends.size(); ++j) {
        if (!out.backends.contains(route.backends[j].name)) {
          return r.fail(child(child(child(p, "backends"), j), "name"),
                        "unknown backend \"" + route.backends[j].name + "\"");
        }
      }
      if (route.mirror && !out.backends.contains(route.mirror->backend)) {
        return r.fail(child(child(p, "mirror"), "backend"),
                      "unknown backend \"" + route.mirror->backend + "\"");
      }
      out.routes.push_back(std::move(route));
    }
  }
  return true;
}

}  // namespace

Result<Outbound> outboundFromJson(const Json& doc, const ParseOptions& options) {
  std::string name = "Outbound";
  if (doc.is_object() && doc.contains("authority") && doc["authority"].is_string()) {
    name += " " + doc["authority"].get<std::string>().substr(0, 300);
  }
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, name + ": expected an object");
  }
  if (doc.contains("kind") && doc["kind"] != "Outbound") {
    return makeError(ErrorCode::kInvalidArgument, name + ": /kind: expected \"Outbound\"");
  }
  Reader r(options);
  Outbound out;
  if (!readOutbound(r, doc, out)) {
    return r.error(name);
  }
  return out;
}

}  // namespace weft::api
