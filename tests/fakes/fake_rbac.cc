// FakeRbac: the RBAC authorizer's matching rules (verbs, API groups,
// resources with subresources, resource names; RoleBindings limited to their
// namespace) and kube-apiserver's 403 Status for a denial.
#include "tests/fakes/fake_rbac.h"

#include <algorithm>
#include <tuple>

namespace weft::testing {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

std::vector<std::string> strings(const Json& object, const char* field) {
  std::vector<std::string> out;
  if (object.is_object() && object.contains(field) && object[field].is_array()) {
    for (const auto& v : object[field]) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

std::string text(const Json& object, const char* field) {
  return object.is_object() && object.contains(field) && object[field].is_string()
             ? object[field].get<std::string>()
             : std::string();
}

// What the built-in ClusterRoles system:discovery and system:public-info-viewer
// give every authenticated user.
bool discoveryPath(const std::string& path) {
  for (const char* exact : {"/version", "/version/", "/healthz", "/livez", "/readyz", "/api",
                            "/api/", "/apis", "/apis/", "/openapi/v2"}) {
    if (path == exact) {
      return true;
    }
  }
  for (const char* prefix : {"/api/", "/apis/", "/openapi/v3"}) {
    if (path.rfind(prefix, 0) == 0 && std::count(path.begin(), path.end(), '/') <= 3 &&
        path.find("/namespaces") == std::string::npos) {
      return true;  // /api/v1, /apis/GROUP, /apis/GROUP/VERSION
    }
  }
  return false;
}

}  // namespace

std::string RbacRequest::describe() const {
  if (!resourceRequest) {
    return user + " " + verb + " " + path;
  }
  std::string out = user + " " + verb + " " + (group.empty() ? "core" : group) + "/" + resource;
  if (!subresource.empty()) {
    out += "/" + subresource;
  }
  if (!name.empty()) {
    out += " \"" + name + "\"";
  }
  out += ns.empty() ? " (cluster scope)" : " in " + ns;
  return out;
}

std::string RbacGrant::describe() const {
  return role + " grants " + user + ": " + verb + " " + (group.empty() ? "core" : group) + "/" +
         resource + (name.empty() ? "" : " \"" + name + "\"") +
         (ns.empty() ? " (cluster-wide)" : " in " + ns);
}

bool operator<(const RbacGrant& a, const RbacGrant& b) {
  return std::tie(a.role, a.user, a.ns, a.group, a.resource, a.verb, a.name) <
         std::tie(b.role, b.user, b.ns, b.group, b.resource, b.verb, b.name);
}

Result<void> FakeRbac::add(const Json& object) {
  std::string kind = text(object, "kind");
  const Json meta = object.value("metadata", Json::object());
  std::string name = text(meta, "name");
  if (text(object, "apiVersion") != "rbac.authorization.k8s.io/v1" || name.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "fake RBAC: not an rbac/v1 object: " + kind);
  }
  std::lock_guard lock(mu_);
  if (kind == "ClusterRole" || kind == "Role") {
    std::vector<Rule> rules;
    for (const auto& r : object.value("rules", Json::array())) {
      Rule rule{strings(r, "apiGroups"), strings(r, "resources"), strings(r, "verbs"),
                strings(r, "resourceNames"), strings(r, "nonResourceURLs")};
      if (!rule.nonResourceUrls.empty()) {
        return makeError(ErrorCode::kInvalidArgument,
                         "fake RBAC: nonResourceURLs are not modelled (" + name + ")");
      }
      rules.push_back(std::move(rule));
    }
    roles_[kind == "Role" ? "Role/" + text(meta, "namespace") + "/" + name
                          : "ClusterRole/" + name] = std::move(rules);
    return okResult();
  }
  if (kind == "ClusterRoleBinding" || kind == "RoleBinding") {
    bindings_.push_back(object);
    return okResult();
  }
  return makeError(ErrorCode::kInvalidArgument, "fake RBAC: not an RBAC kind: " + kind);
}

void FakeRbac::addUser(const std::string& token, const std::string& user) {
  std::lock_guard lock(mu_);
  users_[token] = user;
}

std::optional<std::string> FakeRbac::userOf(const std::string& token) const {
  std::lock_guard lock(mu_);
  auto it = users_.find(token);
  return it == users_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::vector<RbacGrant> FakeRbac::expand() const {
  std::vector<RbacGrant> out;
  for (const auto& binding : bindings_) {
    const Json meta = binding.value("metadata", Json::object());
    bool namespaced = text(binding, "kind") == "RoleBinding";
    std::string bindingNs = namespaced ? text(meta, "namespace") : "";
    const Json ref = binding.value("roleRef", Json::object());
    std::string roleKey = text(ref, "kind") == "Role"
                              ? "Role/" + bindingNs + "/" + text(ref, "name")
                              : "ClusterRole/" + text(ref, "name");
    auto role = roles_.find(roleKey);
    if (role == roles_.end()) {
      continue;  // like the real authorizer: a binding to a missing role grants nothing
    }
    for (const auto& subject : binding.value("subjects", Json::array())) {
      std::string user;
      if (text(subject, "kind") == "ServiceAccount") {
        std::string ns =
            text(subject, "namespace").empty() ? bindingNs : text(subject, "namespace");
        user = "system:serviceaccount:" + ns + ":" + text(subject, "name");
      } else if (text(subject, "kind") == "User") {
        user = text(subject, "name");
      } else {
        continue;  // groups are not modelled
      }
      for (const auto& rule : role->second) {
        std::vector<std::string> names =
            rule.names.empty() ? std::vector<std::string>{""} : rule.names;
        for (const auto& group : rule.groups) {
          for (const auto& resource : rule.resources) {
            for (const auto& verb : rule.verbs) {
              for (const auto& name : names) {
                out.push_back(RbacGrant{roleKey, user, bindingNs, group, resource, verb, name});
              }
            }
          }
        }
      }
    }
  }
  return out;
}

bool FakeRbac::matches(const RbacGrant& g, const RbacRequest& r) const {
  std::string resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  return g.user == r.user && (g.ns.empty() || g.ns == r.ns) &&
         (g.verb == "*" || g.verb == r.verb) && (g.group == "*" || g.group == r.group) &&
         (g.resource == "*" || g.resource == resource) && (g.name.empty() || g.name == r.name);
}

bool FakeRbac::authorize(const RbacRequest& request) {
  std::lock_guard lock(mu_);
  bool allowed = false;
  if (!request.resourceRequest) {
    allowed = request.verb == "get" && discoveryPath(request.path);
  } else {
    for (const auto& grant : expand()) {
      if (matches(grant, request)) {
        allowed = true;
        used_.insert(grant);
      }
    }
  }
  (allowed ? allowed_ : denied_).push_back(request);
  return allowed;
}

std::string FakeRbac::forbiddenBody(const RbacRequest& r) {
  std::string why;
  OJson details = OJson::object();
  std::string message;
  if (!r.resourceRequest) {
    message = "forbidden: User \"" + r.user + "\" cannot " + r.verb + " path \"" + r.path + "\"";
  } else {
    std::string resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
    why = "User \"" + r.user + "\" cannot " + r.verb + " resource \"" + resource +
          "\" in API group \"" + r.group + "\"" +
          (r.ns.empty() ? " at the cluster scope" : " in the namespace \"" + r.ns + "\"");
    std::string qualified = r.group.empty() ? r.resource : r.resource + "." + r.group;
    message = r.name.empty() ? qualified + " is forbidden: " + why
                             : qualified + " \"" + r.name + "\" is forbidden: " + why;
    if (!r.name.empty()) {
      details["name"] = r.name;
    }
    if (!r.group.empty()) {
      details["group"] = r.group;
    }
    details["kind"] = r.resource;
  }
  OJson s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = OJson::object();
  s["status"] = "Failure";
  s["message"] = message;
  s["reason"] = "Forbidden";
  s["details"] = details;
  s["code"] = 403;
  return s.dump();
}

std::vector<RbacRequest> FakeRbac::denied() const {
  std::lock_guard lock(mu_);
  return denied_;
}

std::vector<RbacRequest> FakeRbac::allowed() const {
  std::lock_guard lock(mu_);
  return allowed_;
}

std::vector<RbacGrant> FakeRbac::grants(const std::string& user) const {
  std::lock_guard lock(mu_);
  std::vector<RbacGrant> out;
  for (auto& g : expand()) {
    if (g.user == user) {
      out.push_back(std::move(g));
    }
  }
  return out;
}

std::vector<RbacGrant> FakeRbac::unused(const std::string& user) const {
  std::lock_guard lock(mu_);
  std::vector<RbacGrant> out;
  for (auto& g : expand()) {
    if (g.user == user && !used_.count(g)) {
      out.push_back(std::move(g));
    }
  }
  return out;
}

RbacRequest rbacRequestOf(const std::string& method, const std::string& target) {
  RbacRequest r;
  r.path = target.substr(0, target.find('?'));
  std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?'));
  bool watch =
      query.find("watch=1") != std::string::npos || query.find("watch=true") != std::string::npos;
  std::vector<std::string> parts;
  for (std::size_t start = 1; start <= r.path.size();) {
    std::size_t slash = r.path.find('/', start);
    std::string part = r.path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (!part.empty()) {
      parts.push_back(part);
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  std::size_t first = 0;
  if (parts.size() >= 3 && parts[0] == "api") {
    first = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    r.group = parts[1];
    first = 3;
  }
  r.verb = method == "GET"      ? (watch ? "watch" : "get")
           : method == "POST"   ? "create"
           : method == "PUT"    ? "update"
           : method == "PATCH"  ? "patch"
           : method == "DELETE" ? "delete"
                                : method;
  if (first == 0) {
    r.resourceRequest = false;
    r.group.clear();
    return r;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(first), parts.end());
  // RequestInfo: /namespaces/NS/KIND/... is KIND in NS; /namespaces/NS itself
  // (and its status and finalize) is the namespace NS, in NS.
  if (rest.size() >= 2 && rest[0] == "namespaces") {
    r.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  r.resource = rest[0];
  r.name = rest.size() > 1 ? rest[1] : "";
  r.subresource = rest.size() > 2 ? rest[2] : "";
  if (r.name.empty()) {
    if (r.verb == "get") {
      r.verb = "list";
    } else if (r.verb == "delete") {
      r.verb = "deletecollection";
    }
  }
  return r;
}

}  // namespace weft::testing
