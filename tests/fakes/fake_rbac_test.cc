// FakeRbac decides like the RBAC authorizer and denies with kube-apiserver's
// own 403 bodies (compared byte for byte with the recordings).
#include "tests/fakes/fake_rbac.h"

#include <memory>

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/fakes/fake_api_state.h"

namespace weft::testing {
namespace {

using Json = nlohmann::json;

std::string recorded(const std::string& name) {
  auto text = readFile("tests/fixtures/k8s/" + name);
  EXPECT_TRUE(text.ok()) << name;
  std::string out = text.valueOr("");
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

const std::string kLimited = "system:serviceaccount:fixtures:limited";

RbacRequest as(const std::string& user, const std::string& method, const std::string& target) {
  RbacRequest r = rbacRequestOf(method, target);
  r.user = user;
  return r;
}

void loadOperatorLike(FakeRbac& rbac) {
  EXPECT_TRUE(rbac.add(Json::parse(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
    "metadata": {"name": "reader"},
    "rules": [
      {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
      {"apiGroups": ["weft.io"], "resources": ["meshes/status"], "verbs": ["patch"]},
      {"apiGroups": ["admissionregistration.k8s.io"],
       "resources": ["mutatingwebhookconfigurations"],
       "resourceNames": ["weft-injector"], "verbs": ["get"]}]})"))
                  .ok());
  EXPECT_TRUE(rbac.add(Json::parse(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
    "metadata": {"name": "reader"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
    "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "weft"}]})"))
                  .ok());
  // A Role in "weft", and the ClusterRole bound again, but only in "demo".
  EXPECT_TRUE(rbac.add(Json::parse(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
    "metadata": {"name": "secrets", "namespace": "weft"},
    "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
              {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a", "b"],
               "verbs": ["get"]}]})"))
                  .ok());
  EXPECT_TRUE(rbac.add(Json::parse(R"({
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
    "metadata": {"name": "secrets", "namespace": "weft"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secrets"},
    "subjects": [{"kind": "ServiceAccount", "name": "op"}]})"))
                  .ok());
}

TEST(FakeRbacTest, DenialsAreTheRecordedBodies) {
  FakeRbac rbac;
  auto pods = as(kLimited, "GET", "/api/v1/namespaces/fixtures/pods?limit=500");
  EXPECT_FALSE(rbac.authorize(pods));
  EXPECT_EQ(FakeRbac::forbiddenBody(pods), recorded("error-403-rbac-list-pods.json"));
  auto widgets = as(kLimited, "GET", "/apis/testbed.example.com/v1/namespaces/fixtures/widgets");
  EXPECT_FALSE(rbac.authorize(widgets));
  EXPECT_EQ(FakeRbac::forbiddenBody(widgets), recorded("error-403-rbac-list-widgets.json"));
  auto watch = as(kLimited, "GET",
                  "/apis/testbed.example.com/v1/namespaces/fixtures/widgets?watch=1&"
                  "resourceVersion=5");
  EXPECT_FALSE(rbac.authorize(watch));
  EXPECT_EQ(FakeRbac::forbiddenBody(watch), recorded("error-403-rbac-watch-widgets.json"));
  EXPECT_EQ(rbac.denied().size(), 3u);
}

TEST(FakeRbacTest, RequestAttributesFollowRequestInfo) {
  auto r = rbacRequestOf("PATCH", "/apis/weft.io/v1alpha1/meshes/default/status");
  EXPECT_EQ(r.group, "weft.io");
  EXPECT_EQ(r.resource, "meshes");
  EXPECT_EQ(r.name, "default");
  EXPECT_EQ(r.subresource, "status");
  EXPECT_EQ(r.verb, "patch");
  EXPECT_EQ(r.ns, "");
  r = rbacRequestOf("GET", "/api/v1/namespaces/demo");
  EXPECT_EQ(r.resource, "namespaces");
  EXPECT_EQ(r.name, "demo");
  EXPECT_EQ(r.ns, "demo");
  EXPECT_EQ(r.verb, "get");
  r = rbacRequestOf("GET", "/api/v1/namespaces?watch=true&resourceVersion=7");
  EXPECT_EQ(r.verb, "watch");
  EXPECT_EQ(r.ns, "");
  r = rbacRequestOf("DELETE", "/api/v1/namespaces/x/pods");
  EXPECT_EQ(r.verb, "deletecollection");
  r = rbacRequestOf("GET", "/version");
  EXPECT_FALSE(r.resourceRequest);
}

TEST(FakeRbacTest, RulesMatchVerbsNamesSubresourcesAndNamespaces) {
  FakeRbac rbac;
  loadOperatorLike(rbac);
  const std::string op = "system:serviceaccount:weft:op";
  EXPECT_TRUE(rbac.authorize(as(op, "GET", "/api/v1/pods?limit=500")));
  EXPECT_TRUE(rbac.authorize(as(op, "GET", "/api/v1/namespaces/demo/pods?watch=1")));
  EXPECT_FALSE(rbac.authorize(as(op, "GET", "/api/v1/namespaces/demo/pods/web")));  // get
  EXPECT_TRUE(rbac.authorize(as(op, "PATCH", "/apis/weft.io/v1alpha1/meshes/default/status")));
  EXPECT_FALSE(rbac.authorize(as(op, "PATCH", "/apis/weft.io/v1alpha1/meshes/default")));
  EXPECT_TRUE(rbac.authorize(
      as(op, "GET",
         "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/weft-injector")));
  EXPECT_FALSE(rbac.authorize(
      as(op, "GET", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/other")));
  EXPECT_TRUE(rbac.authorize(as(op, "POST", "/api/v1/namespaces/weft/secrets")));
  EXPECT_FALSE(rbac.authorize(as(op, "POST", "/api/v1/namespaces/demo/secrets")));  // Role: weft
  EXPECT_TRUE(rbac.authorize(as(op, "GET", "/api/v1/namespaces/weft/secrets/a")));
  EXPECT_FALSE(rbac.authorize(as(op, "GET", "/api/v1/namespaces/weft/secrets/c")));
  EXPECT_FALSE(rbac.authorize(as("system:serviceaccount:other:op", "GET", "/api/v1/pods")));
  EXPECT_TRUE(rbac.authorize(as(op, "GET", "/version")));
  EXPECT_FALSE(rbac.authorize(as(op, "POST", "/version")));

  // Unused: the get of secret "b", one right each.
  auto unused = rbac.unused(op);
  ASSERT_EQ(unused.size(), 1u);
  EXPECT_EQ(unused[0].resource, "secrets");
  EXPECT_EQ(unused[0].verb, "get");
  EXPECT_EQ(unused[0].name, "b");
  EXPECT_EQ(unused[0].ns, "weft");
  EXPECT_EQ(rbac.grants(op).size(), 7u);
}

TEST(FakeRbacTest, TheFakeServerAuthenticatesAndAuthorizes) {
  auto rbac = std::make_shared<FakeRbac>();
  loadOperatorLike(*rbac);
  rbac->addUser("op-token", "system:serviceaccount:weft:op");
  FakeApiState state;
  state.setRbac(rbac);
  auto ask = [&](const std::string& method, const std::string& target, const std::string& token) {
    FakeRequest r;
    r.method = method;
    r.target = target;
    r.authorization = token.empty() ? "" : "Bearer " + token;
    return state.handle(r);
  };
  EXPECT_EQ(ask("GET", "/api/v1/pods", "").status, 401);
  EXPECT_EQ(ask("GET", "/api/v1/pods", "stolen").status, 401);
  EXPECT_EQ(ask("GET", "/api/v1/pods", "op-token").status, 200);
  auto denied = ask("GET", "/api/v1/namespaces/weft/secrets/c", "op-token");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body,
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
            R"("secrets \"c\" is forbidden: User \"system:serviceaccount:weft:op\" cannot get )"
            R"(resource \"secrets\" in API group \"\" in the namespace \"weft\"","reason":)"
            R"("Forbidden","details":{"name":"c","kind":"secrets"},"code":403})");
  // Authorized first, then 404: the right was used even though nothing was there.
  EXPECT_EQ(ask("GET", "/api/v1/namespaces/weft/secrets/a", "op-token").status, 404);
  EXPECT_EQ(rbac->denied().size(), 1u);
}

}  // namespace
}  // namespace weft::testing
