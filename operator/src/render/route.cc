// TrafficRoute rules (Gateway-API shaped) into the Outbound document's `routes`.
#include "operator/src/render/route.h"

#include <algorithm>
#include <regex>
#include <set>

#include "operator/src/render/policy.h"
#include "operator/src/render/resolve.h"
#include "operator/src/render/spec.h"

namespace weft::op::render {

using json::Json;

namespace {

std::string str(const Json& obj, const char* pointer) {
  auto v = json::getStringOr(obj, pointer, "");
  return v ? *v : std::string();
}

Result<Json> readValueMatches(const Json& v, const std::string& path) {
  if (!v.is_array()) {
    return spec::invalid(path, "must be a list");
  }
  static const std::regex kHeaderName("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}");
  Json out = Json::array();
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    if (auto r = spec::object(v[i], p, {"name", "type", "value"}); !r) {
      return r.error();
    }
    auto name = v[i].contains("name")
                    ? spec::string(v[i]["name"], p + ".name")
                    : Result<std::string>(spec::invalid(p + ".name", "is required"));
    if (!name) {
      return name.error();
    }
    if (!std::regex_match(*name, kHeaderName)) {
      return spec::invalid(p + ".name", "must be a header or parameter name");
    }
    std::string type = "Exact";
    if (v[i].contains("type")) {
      auto t = spec::oneOf(v[i]["type"], p + ".type", {"Exact", "RegularExpression", "Present"});
      if (!t) {
        return t.error();
      }
      type = *t;
    }
    Json m{{"name", *name}, {"type", type}};
    if (type != "Present") {
      if (!v[i].contains("value")) {
        return spec::invalid(p + ".value", "is required unless type is Present");
      }
      auto value = spec::string(v[i]["value"], p + ".value");
      if (!value) {
        return value.error();
      }
      if (type == "RegularExpression") {
        try {
          std::regex re(*value, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return spec::invalid(p + ".value",
                               std::string("not a valid regular expression: ") + e.what());
        }
      }
      m["value"] = *value;
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<Json> readMatch(const Json& v, const std::string& path) {
  if (auto r = spec::object(v, path, {"path", "headers", "queryParams", "method"}); !r) {
    return r.error();
  }
  Json out = Json::object();
  auto path_ = spec::pathMatch(v.contains("path") ? v["path"] : Json::object(), path + ".path");
  if (!path_) {
    return path_.error();
  }
  out["path"] = *path_;
  if (v.contains("method")) {
    auto m = spec::oneOf(
        v["method"], path + ".method",
        {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"});
    if (!m) {
      return m.error();
    }
    out["method"] = *m;
  }
  for (const char* k : {"headers", "queryParams"}) {
    if (v.contains(k)) {
      auto m = readValueMatches(v[k], path + "." + k);
      if (!m) {
        return m.error();
      }
      out[k] = *m;
    }
  }
  return out;
}

Result<Json> readHeaderModifier(const Json& v, const std::string& path) {
  if (auto r = spec::object(v, path, {"set", "add", "remove"}); !r) {
    return r.error();
  }
  Json out{{"set", Json::object()}, {"add", Json::object()}, {"remove", Json::array()}};
  for (const char* k : {"set", "add"}) {
    if (!v.contains(k)) {
      continue;
    }
    const Json& list = v[k];
    if (!list.is_array()) {
      return spec::invalid(path + "." + k, "must be a list");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string p = path + "." + k + "[" + std::to_string(i) + "]";
      if (auto r = spec::object(list[i], p, {"name", "value"}); !r) {
        return r.error();
      }
      if (!list[i].contains("name") || !list[i].contains("value")) {
        return spec::invalid(p, "needs name and value");
      }
      auto name = spec::string(list[i]["name"], p + ".name");
      auto value = spec::string(list[i]["value"], p + ".value");
      if (!name) {
        return name.error();
      }
      if (!value) {
        return value.error();
      }
      std::string lower = *name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out[k][lower] = *value;
    }
  }
  if (v.contains("remove")) {
    const Json& list = v["remove"];
    if (!list.is_array()) {
      return spec::invalid(path + ".remove", "must be a list");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto name = spec::string(list[i], path + ".remove[" + std::to_string(i) + "]");
      if (!name) {
        return name.error();
      }
      out["remove"].push_back(*name);
    }
  }
  return out;
}

Result<Json> readFault(const Json& v, const std::string& path) {
  if (auto r = spec::object(v, path, {"delay", "abort"}); !r) {
    return r.error();
  }
  Json out = Json::object();
  if (v.contains("delay")) {
    const Json& d = v["delay"];
    std::string p = path + ".delay";
    if (auto r = spec::object(d, p, {"duration", "percent"}); !r) {
      return r.error();
    }
    auto dur = spec::duration(d.value("duration", Json("")), p + ".duration", false);
    if (!dur) {
      return dur.error();
    }
    auto pct = spec::integer(d.value("percent", Json(100)), p + ".percent", 0, 100);
    if (!pct) {
      return pct.error();
    }
    out["delay"] = {{"duration", *dur}, {"percent", *pct}};
  }
  if (v.contains("abort")) {
    const Json& a = v["abort"];
    std::string p = path + ".abort";
    if (auto r = spec::object(a, p, {"status", "percent"}); !r) {
      return r.error();
    }
    if (!a.contains("status")) {
      return spec::invalid(p + ".status", "is required");
    }
    auto status = spec::integer(a["status"], p + ".status", 200, 599);
    if (!status) {
      return status.error();
    }
    auto pct = spec::integer(a.value("percent", Json(100)), p + ".percent", 0, 100);
    if (!pct) {
      return pct.error();
    }
    out["abort"] = {{"status", *status}, {"percent", *pct}};
  }
  return out;
}

}  // namespace

Result<Json> renderRoutes(const Json& route, std::map<std::string, BackendRef>& backendRefs) {
  std::string ns = str(route, "/metadata/namespace");
  std::string routeName = str(route, "/metadata/name");
  const Json empty = Json::object();
  const Json& s = route.contains("spec") ? route["spec"] : empty;
  if (!s.contains("rules") || !s["rules"].is_array() || s["rules"].empty()) {
    return spec::invalid("spec.rules", "must list at least one rule");
  }
  auto backendOf = [&](const Json& ref, const std::string& p) -> Result<std::string> {
    auto r = spec::serviceRef(ref, p, true);
    if (!r) {
      return r.error();
    }
    std::string authority = serviceAuthority(r->name, ns, r->port);
    backendRefs[authority] = BackendRef{ns + "/" + r->name, r->port};
    return authority;
  };
  Json out = Json::array();
  std::set<std::string> names;
  for (std::size_t i = 0; i < s["rules"].size(); ++i) {
    const Json& rule = s["rules"][i];
    std::string p = "spec.rules[" + std::to_string(i) + "]";
    if (auto r = spec::object(
            rule, p, {"name", "matches", "backendRefs", "timeouts", "retry", "filters", "fault"});
        !r) {
      return r.error();
    }
    Json r1 = Json::object();
    std::string name = routeName + "-" + std::to_string(i);
    if (rule.contains("name")) {
      auto n = spec::string(rule["name"], p + ".name");
      if (!n) {
        return n.error();
      }
      name = *n;
    }
    if (!names.insert(name).second) {
      return spec::invalid(p + ".name", "\"" + name + "\" is used by another rule");
    }
    r1["name"] = name;
    Json matches = Json::array();
    if (rule.contains("matches")) {
      if (!rule["matches"].is_array()) {
        return spec::invalid(p + ".matches", "must be a list");
      }
      for (std::size_t j = 0; j < rule["matches"].size(); ++j) {
        auto m = readMatch(rule["matches"][j], p + ".matches[" + std::to_string(j) + "]");
        if (!m) {
          return m.error();
        }
        matches.push_back(*m);
      }
    }
    if (matches.empty()) {
      matches.push_back(Json{{"path", {{"type", "PathPrefix"}, {"value", "/"}}}});
    }
    r1["matches"] = matches;
    if (!rule.contains("backendRefs") || !rule["backendRefs"].is_array() ||
        rule["backendRefs"].empty()) {
      return spec::invalid(p + ".backendRefs", "must list at least one backend");
    }
    Json backends = Json::array();
    std::int64_t total = 0;
    for (std::size_t j = 0; j < rule["backendRefs"].size(); ++j) {
      std::string bp = p + ".backendRefs[" + std::to_string(j) + "]";
      Json ref = rule["backendRefs"][j];
      std::int64_t weight = 1;
      if (ref.is_object() && ref.contains("weight")) {
        auto w = spec::integer(ref["weight"], bp + ".weight", 0, 1000000);
        if (!w) {
          return w.error();
        }
        weight = *w;
        ref.erase("weight");
      }
      auto authority = backendOf(ref, bp);
      if (!authority) {
        return authority.error();
      }
      total += weight;
      backends.push_back(Json{{"name", *authority}, {"weight", weight}});
    }
    if (total == 0) {
      return spec::invalid(p + ".backendRefs", "at least one backend needs a weight above 0");
    }
    r1["backends"] = backends;
    if (rule.contains("timeouts")) {
      const Json& t = rule["timeouts"];
      if (auto r = spec::object(t, p + ".timeouts", {"request", "backendRequest"}); !r) {
        return r.error();
      }
      if (t.contains("backendRequest")) {
        // Checked, but the documents have no per-route per-try timeout yet; the
        // route's Accepted condition says so (see resolve.cc).
        if (auto d = spec::duration(t["backendRequest"], p + ".timeouts.backendRequest", true);
            !d) {
          return d.error();
        }
      }
      if (t.contains("request")) {
        auto d = spec::duration(t["request"], p + ".timeouts.request", true);
        if (!d) {
          return d.error();
        }
        r1["timeout"] = *d == "0s" ? "" : *d;
      }
    }
    if (rule.contains("retry")) {
      const Json& rt = rule["retry"];
      if (auto r = spec::object(rt, p + ".retry", {"attempts", "retryOn"}); !r) {
        return r.error();
      }
      auto retries = readRetries(rt, p + ".retry", nullptr);
      if (!retries) {
        return retries.error();
      }
      r1["retries"] = *retries;
    }
    if (rule.contains("filters")) {
      const Json& filters = rule["filters"];
      if (!filters.is_array()) {
        return spec::invalid(p + ".filters", "must be a list");
      }
      for (std::size_t j = 0; j < filters.size(); ++j) {
        std::string fp = p + ".filters[" + std::to_string(j) + "]";
        const Json& f = filters[j];
        if (auto r = spec::object(
                f, fp,
                {"type", "requestHeaderModifier", "responseHeaderModifier", "requestMirror"});
            !r) {
          return r.error();
        }
        auto type =
            spec::oneOf(f.value("type", Json()), fp + ".type",
                        {"RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror"});
        if (!type) {
          return type.error();
        }
        if (*type == "RequestHeaderModifier" || *type == "ResponseHeaderModifier") {
          bool req = *type == "RequestHeaderModifier";
          const char* member = req ? "requestHeaderModifier" : "responseHeaderModifier";
          const char* target = req ? "requestHeaders" : "responseHeaders";
          if (!f.contains(member)) {
            return spec::invalid(fp + "." + member, "is required for type " + *type);
          }
          if (r1.contains(target)) {
            return spec::invalid(fp, "only one " + *type + " per rule");
          }
          auto m = readHeaderModifier(f[member], fp + "." + member);
          if (!m) {
            return m.error();
          }
          r1[target] = *m;
        } else {
          if (!f.contains("requestMirror")) {
            return spec::invalid(fp + ".requestMirror", "is required for type RequestMirror");
          }
          if (r1.contains("mirror")) {
            return spec::invalid(fp, "only one RequestMirror per rule");
          }
          const Json& m = f["requestMirror"];
          if (auto r = spec::object(m, fp + ".requestMirror", {"backendRef", "percent"}); !r) {
            return r.error();
          }
          auto authority =
              backendOf(m.value("backendRef", Json()), fp + ".requestMirror.backendRef");
          if (!authority) {
            return authority.error();
          }
          auto pct =
              spec::integer(m.value("percent", Json(100)), fp + ".requestMirror.percent", 0, 100);
          if (!pct) {
            return pct.error();
          }
          r1["mirror"] = {{"backend", *authority}, {"percent", *pct}};
        }
      }
    }
    if (rule.contains("fault")) {
      auto f = readFault(rule["fault"], p + ".fault");
      if (!f) {
        return f.error();
      }
      r1["fault"] = *f;
    }
    out.push_back(std::move(r1));
  }
  return out;
}

}  // namespace weft::op::render
