// FakeRbac: Kubernetes RBAC for the fake API server. It holds Roles,
// ClusterRoles and their bindings (as rendered by the chart), maps bearer
// tokens to users, decides each request like the RBAC authorizer (plus the
// built-in discovery rights every authenticated user has), and records every
// decision, so a test can ask what was denied and which granted rights no
// request ever used.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace weft::testing {

// A request as the authorizer sees it (k8s.io/apiserver RequestInfo).
struct RbacRequest {
  std::string user;
  std::string verb;  // get list watch create update patch delete deletecollection
  bool resourceRequest = true;
  std::string group;
  std::string resource;
  std::string subresource;
  std::string ns;    // "" at the cluster scope
  std::string name;  // "" for list, watch, create
  std::string path;  // the URL path (what non-resource requests are judged by)

  std::string describe() const;
};

// One right: a verb on one resource (or "resource/subresource") of a group,
// for one object name or any (""), granted to a user in one namespace or in
// all of them and at the cluster scope (ns "").
struct RbacGrant {
  std::string role;  // "ClusterRole/NAME" or "Role/NS/NAME"
  std::string user;
  std::string ns;
  std::string group;
  std::string resource;
  std::string verb;
  std::string name;

  std::string describe() const;
  friend bool operator<(const RbacGrant& a, const RbacGrant& b);
};

// What a method and target (path and query) ask for, without the user.
RbacRequest rbacRequestOf(const std::string& method, const std::string& target);

class FakeRbac {
 public:
  // Adds a Role, ClusterRole, RoleBinding or ClusterRoleBinding (rbac/v1, as
  // JSON); anything else is an error. Bindings may come before their roles.
  Result<void> add(const nlohmann::json& object);
  // A bearer token the server accepts, as `user` ("system:serviceaccount:NS:NAME").
  void addUser(const std::string& token, const std::string& user);
  std::optional<std::string> userOf(const std::string& token) const;

  // Decides and records.
  bool authorize(const RbacRequest& request);
  // The Status body of kube-apiserver's 403 for a denied request.
  static std::string forbiddenBody(const RbacRequest& request);

  std::vector<RbacRequest> denied() const;
  std::vector<RbacRequest> allowed() const;
  // Every right granted to `user` that no allowed request used, by verb,
  // resource and name (a rule for three names is three rights).
  std::vector<RbacGrant> unused(const std::string& user) const;
  // Every right granted to `user`.
  std::vector<RbacGrant> grants(const std::string& user) const;

 private:
  struct Rule {
    std::vector<std::string> groups, resources, verbs, names, nonResourceUrls;
  };
  std::vector<RbacGrant> expand() const;  // every binding's rules, one right each
  bool matches(const RbacGrant& grant, const RbacRequest& request) const;

  mutable std::mutex mu_;
  std::map<std::string, std::vector<Rule>> roles_;  // "ClusterRole/x", "Role/ns/x"
  std::vector<nlohmann::json> bindings_;
  std::map<std::string, std::string> users_;  // token -> user
  std::vector<RbacRequest> allowed_;
  std::vector<RbacRequest> denied_;
  std::set<RbacGrant> used_;
};

}  // namespace weft::testing
