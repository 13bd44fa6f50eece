// Policy defaults and the checked merge of spec fields onto them.
#include "operator/src/render/policy.h"

#include "common/api/duration.h"
#include "operator/src/render/spec.h"

namespace weft::op::render {

using json::Json;

Json defaultPolicy() {
  return Json{
      {"loadBalancer", "p2c-ewma"},
      {"timeouts",
       {{"connect", "1s"},
        {"request", "15s"},
        {"perTry", ""},
        {"idle", api::formatDuration(std::chrono::seconds(60))}}},
      {"retries",
       {{"attempts", 3},
        {"on", {"connect-failure", "503"}},
        {"nonIdempotent", false},
        {"backoff", {{"base", "25ms"}, {"max", "250ms"}}},
        {"budget", {{"ratio", 0.2}, {"minPerSecond", 10}}}}},
      {"circuitBreaker",
       {{"maxConnections", 100000}, {"maxPendingRequests", 100000}, {"maxRequests", 100000}}},
      {"outlierDetection",
       {{"consecutiveFailures", 5}, {"baseEjection", "30s"}, {"maxEjectionPercent", 50}}},
  };
}

namespace {

// Copies each present member of `in` through `read` into `out[key]`.
template <typename F>
Result<void> field(const Json& in, const std::string& path, const char* key, Json& out, F read) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) {
    return okResult();
  }
  auto v = read(*it, path + "." + key);
  if (!v) {
    return v.error();
  }
  out[key] = *v;
  return okResult();
}

Result<Json> readRetryOn(const Json& value, const std::string& path) {
  if (!value.is_array() || value.empty()) {
    return spec::invalid(path, "must be a non-empty list");
  }
  Json out = Json::array();
  for (std::size_t i = 0; i < value.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    const Json& v = value[i];
    std::string s;
    if (v.is_number_integer()) {
      s = std::to_string(v.get<std::int64_t>());
    } else if (v.is_string()) {
      s = v.get<std::string>();
    } else {
      return spec::invalid(p, "must be a string");
    }
    bool named = s == "connect-failure" || s == "reset" || s == "5xx" || s == "gateway-error";
    bool status = s.size() == 3 && s >= "100" && s <= "599" &&
                  s.find_first_not_of("0123456789") == std::string::npos;
    if (!named && !status) {
      return spec::invalid(p,
                           "must be connect-failure, reset, 5xx, gateway-error or a status "
                           "code from 100 to 599");
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace

Result<Json> readRetries(const Json& value, const std::string& path, Json* timeouts) {
  if (auto r = spec::object(
          value, path,
          {"attempts", "retryOn", "perTryTimeout", "nonIdempotent", "backoff", "budget"});
      !r) {
    return r.error();
  }
  Json out = Json::object();
  Result<void> r = field(value, path, "attempts", out, [](const Json& v, const std::string& p) {
    return spec::integer(v, p, 1, 10);
  });
  if (r && value.contains("retryOn")) {
    auto on = readRetryOn(value["retryOn"], path + ".retryOn");
    if (!on) {
      return on.error();
    }
    out["on"] = *on;
  }
  if (r && value.contains("perTryTimeout")) {
    if (timeouts == nullptr) {
      return spec::invalid(path + ".perTryTimeout", "not allowed here");
    }
    auto d = spec::duration(value["perTryTimeout"], path + ".perTryTimeout", true);
    if (!d) {
      return d.error();
    }
    (*timeouts)["perTry"] = *d;
  }
  if (r) {
    r = field(value, path, "nonIdempotent", out, spec::boolean);
  }
  if (r) {
    r = field(value, path, "backoff", out, [](const Json& v, const std::string& p) -> Result<Json> {
      if (auto o = spec::object(v, p, {"base", "max"}); !o) {
        return o.error();
      }
      Json b = Json::object();
      for (const char* k : {"base", "max"}) {
        if (auto f = field(
                v, p, k, b,
                [](const Json& d, const std::string& dp) { return spec::duration(d, dp, false); });
            !f) {
          return f.error();
        }
      }
      return b;
    });
  }
  if (r && value.contains("budget")) {
    const Json& v = value["budget"];
    std::string p = path + ".budget";
    if (auto o = spec::object(v, p, {"percent", "minPerSecond"}); !o) {
      return o.error();
    }
    Json b = Json::object();
    if (v.contains("percent")) {
      auto pct = spec::integer(v["percent"], p + ".percent", 0, 100);
      if (!pct) {
        return pct.error();
      }
      b["ratio"] = static_cast<double>(*pct) / 100.0;
    }
    if (v.contains("minPerSecond")) {
      auto m = spec::integer(v["minPerSecond"], p + ".minPerSecond", 0, 10000);
      if (!m) {
        return m.error();
      }
      b["minPerSecond"] = *m;
    }
    out["budget"] = b;
  }
  if (!r) {
    return r.error();
  }
  return out;
}

Result<void> applyPolicy(const Json& specJson, const std::string& path, Json& policy) {
  if (!specJson.is_object()) {
    return spec::invalid(path, "must be an object");
  }
  Json patch = Json::object();
  Json timeouts = Json::object();
  Result<void> r = okResult();
  if (specJson.contains("loadBalancer")) {
    const Json& lb = specJson["loadBalancer"];
    std::string p = path + ".loadBalancer";
    r = spec::object(lb, p, {"type"});
    if (r && lb.contains("type")) {
      auto t = spec::oneOf(lb["type"], p + ".type", {"PeakEWMA", "RoundRobin", "LeastRequest"});
      if (!t) {
        return t.error();
      }
      patch["loadBalancer"] = *t == "PeakEWMA"     ? "p2c-ewma"
                              : *t == "RoundRobin" ? "round-robin"
                                                   : "least-request";
    }
  }
  if (r && specJson.contains("timeouts")) {
    const Json& v = specJson["timeouts"];
    std::string p = path + ".timeouts";
    r = spec::object(v, p, {"connect", "request", "idle"});
    for (const char* k : {"connect", "request", "idle"}) {
      if (!r) {
        break;
      }
      bool allowNone = std::string(k) != "connect";
      r = field(v, p, k, timeouts, [allowNone](const Json& d, const std::string& dp) {
        return spec::duration(d, dp, allowNone);
      });
    }
  }
  if (r && specJson.contains("retries")) {
    auto retries = readRetries(specJson["retries"], path + ".retries", &timeouts);
    if (!retries) {
      return retries.error();
    }
    patch["retries"] = *retries;
  }
  if (r && !timeouts.empty()) {
    patch["timeouts"] = timeouts;
  }
  if (r) {
    r = field(
        specJson, path, "circuitBreaker", patch,
        [](const Json& v, const std::string& p) -> Result<Json> {
          if (auto o = spec::object(v, p, {"maxConnections", "maxPendingRequests", "maxRequests"});
              !o) {
            return o.error();
          }
          Json c = Json::object();
          for (const char* k : {"maxConnections", "maxPendingRequests", "maxRequests"}) {
            if (auto f = field(v, p, k, c,
                               [](const Json& n, const std::string& np) {
                                 return spec::integer(n, np, 1, 1000000000);
                               });
                !f) {
              return f.error();
            }
          }
          return c;
        });
  }
  if (r) {
    r = field(
        specJson, path, "outlierDetection", patch,
        [](const Json& v, const std::string& p) -> Result<Json> {
          if (auto o =
                  spec::object(v, p, {"consecutiveFailures", "baseEjection", "maxEjectionPercent"});
              !o) {
            return o.error();
          }
          Json c = Json::object();
          auto f = field(v, p, "consecutiveFailures", c, [](const Json& n, const std::string& np) {
            return spec::integer(n, np, 0, 1000);
          });
          if (f) {
            f = field(v, p, "baseEjection", c, [](const Json& d, const std::string& dp) {
              return spec::duration(d, dp, false);
            });
          }
          if (f) {
            f = field(v, p, "maxEjectionPercent", c, [](const Json& n, const std::string& np) {
              return spec::integer(n, np, 0, 100);
            });
          }
          if (!f) {
            return f.error();
          }
          return c;
        });
  }
  if (!r) {
    return r;
  }
  Json merged = policy;
  merged.merge_patch(patch);
  // A backoff whose base exceeds its max would make every retry wait the max.
  const Json& backoff = merged["retries"]["backoff"];
  auto base = api::parseDuration(backoff.value("base", "25ms"));
  auto max = api::parseDuration(backoff.value("max", "250ms"));
  if (base && max && *base > *max) {
    return spec::invalid(path + ".retries.backoff", "base must not exceed max");
  }
  policy = std::move(merged);
  return okResult();
}

}  // namespace weft::op::render
