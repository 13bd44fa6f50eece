// Validation and conflict resolution of Mesh, TrafficPolicy, TrafficRoute and AccessPolicy.
#include "operator/src/render/resolve.h"

#include <algorithm>
#include <regex>
#include <set>

#include "common/api/duration.h"
#include "operator/src/render/policy.h"
#include "operator/src/render/route.h"
#include "operator/src/render/spec.h"

namespace weft::op::render {

using json::Json;

namespace {

std::string str(const Json& obj, const char* pointer) {
  auto v = json::getStringOr(obj, pointer, "");
  return v ? *v : std::string();
}

std::int64_t generationOf(const Json& obj) {
  auto v = json::getIntOr(obj, "/metadata/generation", 0);
  return v ? *v : 0;
}

// Oldest first, then by name: the order in which conflicting resources win.
bool olderFirst(const ObjectPtr& a, const ObjectPtr& b) {
  std::string ta = str(*a, "/metadata/creationTimestamp");
  std::string tb = str(*b, "/metadata/creationTimestamp");
  if (ta != tb) {
    return ta < tb;
  }
  return str(*a, "/metadata/name") < str(*b, "/metadata/name");
}

Condition accepted() { return {"Accepted", "True", "Accepted", "the resource is valid"}; }
Condition notAccepted(std::string reason, std::string message) {
  return {"Accepted", "False", std::move(reason), std::move(message)};
}
Condition resolved() {
  return {"ResolvedRefs", "True", "ResolvedRefs", "every reference resolves"};
}
Condition notResolved(std::string reason, std::string message) {
  return {"ResolvedRefs", "False", std::move(reason), std::move(message)};
}

bool servicePortExists(const Json& service, std::int64_t port) {
  auto ports = json::getArray(service, "/spec/ports");
  if (!ports) {
    return false;
  }
  for (const Json& p : *ports) {
    if (p.is_object() && p.value("port", Json()).is_number_integer() &&
        p["port"].get<std::int64_t>() == port) {
      return true;
    }
  }
  return false;
}

std::string targetKey(const spec::ServiceRef& ref) {
  return ref.port == 0 ? ref.name : ref.name + ":" + std::to_string(ref.port);
}

// Checks that `ref` names an existing Service (and port) in `ns`; empty when
// it does, else the problem, with its reason in `reasonOut`: `missingReason`
// for a missing Service; for a missing port PortNotFound on targets and
// BackendNotFound on backends (as Gateway API reports them).
std::string unresolved(const Objects& objects, const std::string& ns, const spec::ServiceRef& ref,
                       std::string& reasonOut, const char* missingReason) {
  ObjectPtr svc = objects.get(Kind::kService, ns + "/" + ref.name);
  if (!svc) {
    reasonOut = missingReason;
    return "Service " + ns + "/" + ref.name + " not found";
  }
  if (ref.port != 0 && !servicePortExists(*svc, ref.port)) {
    reasonOut =
        std::string(missingReason) == "BackendNotFound" ? "BackendNotFound" : "PortNotFound";
    return "Service " + ns + "/" + ref.name + " has no port " + std::to_string(ref.port);
  }
  return "";
}

}  // namespace

std::string serviceAuthority(const std::string& name, const std::string& ns, std::int64_t port) {
  return name + "." + ns + ".svc.cluster.local:" + std::to_string(port);
}

bool selects(const Json& selector, const Json& labels) {
  if (!selector.is_object()) {
    return false;
  }
  auto label = [&](const std::string& k) -> const Json* {
    if (!labels.is_object()) {
      return nullptr;
    }
    auto it = labels.find(k);
    return it == labels.end() ? nullptr : &*it;
  };
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) {
      const Json* have = label(k);
      if (!have || *have != v) {
        return false;
      }
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && me->is_array()) {
    for (const Json& e : *me) {
      std::string key = e.value("key", "");
      std::string op = e.value("operator", "");
      const Json* have = label(key);
      bool in = false;
      if (have && e.contains("values") && e["values"].is_array()) {
        for (const Json& v : e["values"]) {
          in = in || v == *have;
        }
      }
      bool ok = (op == "In" && in) || (op == "NotIn" && !in) || (op == "Exists" && have) ||
                (op == "DoesNotExist" && !have);
      if (!ok) {
        return false;
      }
    }
  }
  return true;
}

MeshView resolveMesh(const Objects& objects, std::vector<Verdict>& verdicts) {
  MeshView view;
  view.policy = defaultPolicy();
  for (const auto& [key, obj] : objects.all(Kind::kMesh)) {
    Verdict v{Kind::kMesh, key, generationOf(*obj), {}};
    std::string name = str(*obj, "/metadata/name");
    if (name != "default") {
      v.conditions.push_back(notAccepted(
          "NotDefault", "only the Mesh named \"default\" is used; this one is ignored"));
      verdicts.push_back(std::move(v));
      continue;
    }
    const Json empty = Json::object();
    const Json& s = obj->contains("spec") ? (*obj)["spec"] : empty;
    MeshView next = view;
    Result<void> r =
        spec::object(s, "spec", {"trustDomain", "certificateLifetime", "mtls", "defaults"});
    if (r && s.contains("trustDomain")) {
      auto td = spec::string(s["trustDomain"], "spec.trustDomain");
      static const std::regex kDomain("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
      if (!td) {
        r = td.error();
      } else if (!std::regex_match(*td, kDomain)) {
        r = spec::invalid("spec.trustDomain", "must be a DNS name such as cluster.local");
      } else {
        next.trustDomain = *td;
      }
    }
    if (r && s.contains("certificateLifetime")) {
      auto d = spec::duration(s["certificateLifetime"], "spec.certificateLifetime", false);
      if (!d) {
        r = d.error();
      } else if (auto parsed = api::parseDuration(*d);
                 parsed &&
                 (*parsed < std::chrono::hours(1) || *parsed > std::chrono::hours(8760))) {
        r = spec::invalid("spec.certificateLifetime", "must be from 1h to 8760h");
      } else if (parsed) {
        next.certificateLifetime = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
      }
    }
    if (r && s.contains("mtls")) {
      r = spec::object(s["mtls"], "spec.mtls", {"mode"});
      if (r && s["mtls"].contains("mode")) {
        auto m = spec::oneOf(s["mtls"]["mode"], "spec.mtls.mode", {"PERMISSIVE", "STRICT"});
        if (!m) {
          r = m.error();
        } else {
          next.mtlsMode = *m;
        }
      }
    }
    if (r && s.contains("defaults")) {
      r = spec::object(
          s["defaults"], "spec.defaults",
          {"loadBalancer", "timeouts", "retries", "circuitBreaker", "outlierDetection"});
      if (r) {
        r = applyPolicy(s["defaults"], "spec.defaults", next.policy);
      }
    }
    if (!r) {
      v.conditions.push_back(
          notAccepted("Invalid", r.error().message + "; using the built-in defaults"));
    } else {
      view = std::move(next);
      v.conditions.push_back(accepted());
    }
    verdicts.push_back(std::move(v));
  }
  return view;
}

namespace {

void resolvePolicies(const Objects& objects, const MeshView& mesh, const std::string& ns,
                     NamespaceView& view) {
  auto items = objects.inNamespace(Kind::kTrafficPolicy, ns);
  std::sort(items.begin(), items.end(), olderFirst);
  std::map<std::string, std::string> winners;  // target -> winner name
  for (const ObjectPtr& obj : items) {
    std::string key = source::keyOf(*obj);
    Verdict v{Kind::kTrafficPolicy, key, generationOf(*obj), {}};
    const Json empty = Json::object();
    const Json& s = obj->contains("spec") ? (*obj)["spec"] : empty;
    Result<void> r = spec::object(s, "spec",
                                  {"targetRef", "loadBalancer", "timeouts", "retries",
                                   "circuitBreaker", "outlierDetection", "healthCheck"});
    Result<spec::ServiceRef> ref = spec::ServiceRef{};
    if (r) {
      ref = s.contains("targetRef")
                ? spec::serviceRef(s["targetRef"], "spec.targetRef", false)
                : Result<spec::ServiceRef>(spec::invalid("spec.targetRef", "is required"));
      if (!ref) {
        r = ref.error();
      }
    }
    if (r) {
      Json scratch = mesh.policy;
      r = applyPolicy(s, "spec", scratch);
    }
    if (r && s.contains("healthCheck")) {
      r = spec::object(s["healthCheck"], "spec.healthCheck",
                       {"type", "path", "port", "interval", "timeout", "unhealthyThreshold",
                        "healthyThreshold"});
    }
    if (!r) {
      v.conditions.push_back(notAccepted("Invalid", r.error().message));
      view.verdicts.push_back(std::move(v));
      continue;
    }
    std::string reason;
    std::string missing = unresolved(objects, ns, *ref, reason, "TargetNotFound");
    if (!missing.empty()) {
      v.conditions.push_back(accepted());
      v.conditions.push_back(notResolved(reason, missing));
      view.verdicts.push_back(std::move(v));
      continue;
    }
    std::string target = targetKey(*ref);
    auto [it, inserted] = winners.emplace(target, str(*obj, "/metadata/name"));
    if (!inserted) {
      v.conditions.push_back(
          notAccepted("Conflicted", "TrafficPolicy " + it->second + " targets " + target +
                                        " too and wins (older, or same age and first by name)"));
    } else {
      Condition c = accepted();
      if (s.contains("healthCheck")) {
        c.message = "the resource is valid; healthCheck is not applied by proxies yet";
      }
      v.conditions.push_back(c);
      view.policies[target] = s;
    }
    v.conditions.push_back(resolved());
    view.verdicts.push_back(std::move(v));
  }
}

void resolveRoutes(const Objects& objects, const std::string& ns, NamespaceView& view) {
  auto items = objects.inNamespace(Kind::kTrafficRoute, ns);
  std::sort(items.begin(), items.end(), olderFirst);
  std::map<std::string, std::string> winners;
  for (const ObjectPtr& obj : items) {
    std::string key = source::keyOf(*obj);
    Verdict v{Kind::kTrafficRoute, key, generationOf(*obj), {}};
    const Json empty = Json::object();
    const Json& s = obj->contains("spec") ? (*obj)["spec"] : empty;
    Result<void> r = spec::object(s, "spec", {"parentRefs", "rules"});
    std::vector<spec::ServiceRef> parents;
    if (r) {
      if (!s.contains("parentRefs") || !s["parentRefs"].is_array() || s["parentRefs"].empty()) {
        r = spec::invalid("spec.parentRefs", "must list at least one Service");
      } else {
        for (std::size_t i = 0; r && i < s["parentRefs"].size(); ++i) {
          auto ref = spec::serviceRef(s["parentRefs"][i],
                                      "spec.parentRefs[" + std::to_string(i) + "]", false);
          if (!ref) {
            r = ref.error();
          } else {
            parents.push_back(*ref);
          }
        }
      }
    }
    std::map<std::string, BackendRef> backends;
    if (r) {
      auto routes = renderRoutes(*obj, backends);
      if (!routes) {
        r = routes.error();
      }
    }
    if (!r) {
      v.conditions.push_back(notAccepted("Invalid", r.error().message));
      view.verdicts.push_back(std::move(v));
      continue;
    }
    // References: parents first, then backends.
    std::string reason;
    std::string problem;
    std::vector<spec::ServiceRef> attached;
    for (const spec::ServiceRef& p : parents) {
      std::string why;
      std::string missing = unresolved(objects, ns, p, why, "TargetNotFound");
      if (missing.empty()) {
        attached.push_back(p);
      } else if (problem.empty()) {
        problem = missing;
        reason = why;
      }
    }
    for (const auto& [authority, ref] : backends) {
      std::string why;
      std::string name = ref.serviceKey.substr(ref.serviceKey.find('/') + 1);
      std::string missing = unresolved(objects, ns, {name, ref.port}, why, "BackendNotFound");
      if (!missing.empty() && problem.empty()) {
        problem = "backend " + missing;
        reason = "BackendNotFound";
      }
    }
    std::vector<std::string> lost;
    int won = 0;
    for (const spec::ServiceRef& p : attached) {
      std::string target = targetKey(p);
      auto [it, inserted] = winners.emplace(target, str(*obj, "/metadata/name"));
      if (inserted) {
        view.routes[target] = obj;
        ++won;
      } else {
        lost.push_back(target + " (TrafficRoute " + it->second + " is older and wins)");
      }
    }
    if (!lost.empty() && won == 0) {
      std::string msg = "conflicts on";
      for (const auto& l : lost) {
        msg += " " + l;
      }
      v.conditions.push_back(notAccepted("Conflicted", msg));
    } else {
      Condition c = accepted();
      if (!lost.empty()) {
        c.message = "attached to some parents; conflicts on";
        for (const auto& l : lost) {
          c.message += " " + l;
        }
      }
      for (const Json& rule : s["rules"]) {
        if (rule.contains("timeouts") && rule["timeouts"].contains("backendRequest")) {
          c.message +=
              "; timeouts.backendRequest is not applied by proxies yet (use a "
              "TrafficPolicy's retries.perTryTimeout)";
          break;
        }
      }
      v.conditions.push_back(c);
    }
    v.conditions.push_back(problem.empty() ? resolved() : notResolved(reason, problem));
    view.verdicts.push_back(std::move(v));
  }
}

// AccessPolicy spec: targetRef (a Service) or selector (pod labels) or
// neither (every pod of the namespace); action ALLOW|DENY; rules[] of
// {from: {serviceAccounts: [{name, namespace}], namespaces, identities},
// ports, methods, paths}.
Result<Json> readAccessRules(const Json& s, const std::string& ns, const MeshView& mesh) {
  std::string action = "ALLOW";
  if (s.contains("action")) {
    auto a = spec::oneOf(s["action"], "spec.action", {"ALLOW", "DENY"});
    if (!a) {
      return a.error();
    }
    action = *a;
  }
  Json out = Json::array();
  // An empty rule matches everyone, so "no rules" would read as allow-all or
  // deny-all depending on taste: require the rule to be written out.
  if (!s.contains("rules") || !s["rules"].is_array() || s["rules"].empty()) {
    return spec::invalid("spec.rules", "must list at least one rule (use [{}] to match everyone)");
  }
  const Json& rules = s["rules"];
  for (std::size_t i = 0; i < rules.size(); ++i) {
    std::string p = "spec.rules[" + std::to_string(i) + "]";
    const Json& rule = rules[i];
    if (auto r = spec::object(rule, p, {"from", "ports", "methods", "paths"}); !r) {
      return r.error();
    }
    Json from{{"identities", Json::array()}, {"namespaces", Json::array()}};
    if (rule.contains("from")) {
      const Json& f = rule["from"];
      if (auto r = spec::object(f, p + ".from", {"serviceAccounts", "namespaces", "identities"});
          !r) {
        return r.error();
      }
      if (f.contains("serviceAccounts")) {
        if (!f["serviceAccounts"].is_array()) {
          return spec::invalid(p + ".from.serviceAccounts", "must be a list");
        }
        for (std::size_t j = 0; j < f["serviceAccounts"].size(); ++j) {
          const Json& sa = f["serviceAccounts"][j];
          std::string sp = p + ".from.serviceAccounts[" + std::to_string(j) + "]";
          if (auto r = spec::object(sa, sp, {"name", "namespace"}); !r) {
            return r.error();
          }
          auto name = spec::string(sa.value("name", Json()), sp + ".name");
          auto saNs = spec::string(sa.value("namespace", Json(ns)), sp + ".namespace");
          if (!name) {
            return name.error();
          }
          if (!saNs) {
            return saNs.error();
          }
          from["identities"].push_back("spiffe://" + mesh.trustDomain + "/ns/" + *saNs + "/sa/" +
                                       *name);
        }
      }
      for (const char* k : {"namespaces", "identities"}) {
        if (!f.contains(k)) {
          continue;
        }
        if (!f[k].is_array()) {
          return spec::invalid(p + ".from." + k, "must be a list");
        }
        for (std::size_t j = 0; j < f[k].size(); ++j) {
          auto v = spec::string(f[k][j], p + ".from." + k + "[" + std::to_string(j) + "]");
          if (!v) {
            return v.error();
          }
          if (std::string(k) == "identities" && !v->starts_with("spiffe://")) {
            return spec::invalid(p + ".from.identities[" + std::to_string(j) + "]",
                                 "must be a SPIFFE ID (spiffe://...)");
          }
          from[k].push_back(*v);
        }
      }
    }
    Json out1{{"action", action}, {"from", from}};
    Json ports = Json::array();
    if (rule.contains("ports")) {
      if (!rule["ports"].is_array()) {
        return spec::invalid(p + ".ports", "must be a list");
      }
      for (std::size_t j = 0; j < rule["ports"].size(); ++j) {
        auto port =
            spec::integer(rule["ports"][j], p + ".ports[" + std::to_string(j) + "]", 1, 65535);
        if (!port) {
          return port.error();
        }
        ports.push_back(*port);
      }
    }
    out1["ports"] = ports;
    Json methods = Json::array();
    if (rule.contains("methods")) {
      if (!rule["methods"].is_array()) {
        return spec::invalid(p + ".methods", "must be a list");
      }
      for (std::size_t j = 0; j < rule["methods"].size(); ++j) {
        auto m = spec::oneOf(
            rule["methods"][j], p + ".methods[" + std::to_string(j) + "]",
            {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"});
        if (!m) {
          return m.error();
        }
        methods.push_back(*m);
      }
    }
    out1["methods"] = methods;
    Json paths = Json::array();
    if (rule.contains("paths")) {
      if (!rule["paths"].is_array()) {
        return spec::invalid(p + ".paths", "must be a list");
      }
      for (std::size_t j = 0; j < rule["paths"].size(); ++j) {
        auto m = spec::pathMatch(rule["paths"][j], p + ".paths[" + std::to_string(j) + "]");
        if (!m) {
          return m.error();
        }
        paths.push_back(*m);
      }
    }
    out1["paths"] = paths;
    out.push_back(std::move(out1));
  }
  return out;
}

void resolveAccess(const Objects& objects, const MeshView& mesh, const std::string& ns,
                   NamespaceView& view) {
  auto items = objects.inNamespace(Kind::kAccessPolicy, ns);
  std::sort(items.begin(), items.end(), olderFirst);
  for (const ObjectPtr& obj : items) {
    std::string key = source::keyOf(*obj);
    Verdict v{Kind::kAccessPolicy, key, generationOf(*obj), {}};
    const Json empty = Json::object();
    const Json& s = obj->contains("spec") ? (*obj)["spec"] : empty;
    Result<void> r = spec::object(s, "spec", {"targetRef", "selector", "action", "rules"});
    Result<spec::ServiceRef> ref = spec::ServiceRef{};
    if (r && s.contains("targetRef")) {
      if (s.contains("selector")) {
        r = spec::invalid("spec", "targetRef and selector are mutually exclusive");
      } else {
        ref = spec::serviceRef(s["targetRef"], "spec.targetRef", false);
        if (!ref) {
          r = ref.error();
        }
      }
    }
    if (r && s.contains("selector")) {
      r = spec::object(s["selector"], "spec.selector", {"matchLabels", "matchExpressions"});
    }
    Result<Json> rules = Json::array();
    if (r) {
      rules = readAccessRules(s, ns, mesh);
      if (!rules) {
        r = rules.error();
      }
    }
    if (!r) {
      v.conditions.push_back(notAccepted("Invalid", r.error().message));
      view.verdicts.push_back(std::move(v));
      continue;
    }
    v.conditions.push_back(accepted());
    if (s.contains("targetRef")) {
      std::string reason;
      std::string missing = unresolved(objects, ns, *ref, reason, "TargetNotFound");
      if (!missing.empty()) {
        v.conditions.push_back(notResolved(reason, missing));
        view.verdicts.push_back(std::move(v));
        continue;
      }
    }
    v.conditions.push_back(resolved());
    view.access.push_back({obj, std::move(*rules)});
    view.verdicts.push_back(std::move(v));
  }
}

}  // namespace

NamespaceView resolveNamespace(const Objects& objects, const MeshView& mesh,
                               const std::string& ns) {
  NamespaceView view;
  resolvePolicies(objects, mesh, ns, view);
  resolveRoutes(objects, ns, view);
  resolveAccess(objects, mesh, ns, view);
  return view;
}

}  // namespace weft::op::render
