// The chart's RBAC is exactly what the code uses. The fake API server
// enforces the rendered ClusterRoles, Roles and bindings; the real
// weft-operator and weft-injector run against it under their service
// accounts through their normal work (leader election, the mesh CA and the
// injector's certificate on a fresh cluster and again over stale Secrets,
// the caBundle patch, status writes, Events, TokenReview, watches, a
// namespace lookup). Then nothing may have been denied, and every right the
// chart grants must have been used at least once.
#include <csignal>
#include <memory>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/resource.h"
#include "common/strings.h"
#include "common/tls/pki.h"
#include "common/yaml/yaml.h"
#include "operator/src/identity/ca.h"
#include "tests/common/http/test_tls.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/fake_rbac.h"
#include "tests/fakes/test_certs.h"
#include "tests/helm/chart.h"
#include "tests/support/process.h"

namespace weft::test::helm {
namespace {

namespace res = kube::resources;

const std::string kNs = "weft-system";
const std::string kOperatorUser = "system:serviceaccount:weft-system:weft-operator";
const std::string kInjectorUser = "system:serviceaccount:weft-system:weft-injector";

template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // polling real processes
  }
  return done();
}

std::string secretValue(const Json& secret, const std::string& key) {
  if (!secret.contains("data") || !secret["data"].contains(key)) {
    return "";
  }
  return base64Decode(secret["data"][key].get<std::string>()).valueOr("");
}

class ChartRbacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rendered = render();
    ASSERT_TRUE(rendered.ok()) << rendered.error().describe();
    objects_ = std::move(*rendered);

    auto pki = weft::testing::makeTestPki();
    ASSERT_TRUE(pki.ok());
    weft::testing::FakeApiServerOptions options;
    options.certPem = pki->serverCertPem;
    options.keyPem = pki->serverKeyPem;
    auto server = weft::testing::FakeApiServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    weft::testing::writeFileAtomically(dir_.file("ca.crt"), pki->caCertPem);

    // The chart's RBAC, what `helm install` creates (not the `helm test` hooks),
    // plus an administrator for the test itself.
    rbac_ = std::make_shared<weft::testing::FakeRbac>();
    for (const auto& o : objects_) {
      if (o.value("apiVersion", "") == "rbac.authorization.k8s.io/v1" && !isHook(o)) {
        auto added = rbac_->add(o);
        ASSERT_TRUE(added.ok()) << added.error().describe();
      }
    }
    ASSERT_TRUE(rbac_
                    ->add(Json::parse(R"({"apiVersion": "rbac.authorization.k8s.io/v1",
                      "kind": "ClusterRole", "metadata": {"name": "test-admin"},
                      "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})"))
                    .ok());
    ASSERT_TRUE(rbac_
                    ->add(Json::parse(R"({"apiVersion": "rbac.authorization.k8s.io/v1",
                      "kind": "ClusterRoleBinding", "metadata": {"name": "test-admin"},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": "test-admin"},
                      "subjects": [{"kind": "User", "name": "test-admin"}]})"))
                    .ok());
    rbac_->addUser("operator-token", kOperatorUser);
    rbac_->addUser("injector-token", kInjectorUser);
    rbac_->addUser("admin-token", "test-admin");
    server_->state().setRbac(rbac_);
    // What TokenReview answers for a proxy's projected token.
    server_->state().addToken("web-token", "system:serviceaccount:demo:web", {"weft.io/identity"});

    kube::KubeConfig config;
    config.server = server_->url();
    config.caPem = pki->caCertPem;
    config.token = "admin-token";
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok());
    admin_ = std::move(*api);
    for (const char* who : {"operator", "injector"}) {
      weft::testing::writeFileAtomically(
          dir_.file(std::string(who) + ".kubeconfig"),
          "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: " +
              server_->url() + "\n    certificate-authority: " + dir_.file("ca.crt") +
              "\nusers:\n- name: u\n  user:\n    token: " + who +
              "-token\ncontexts:\n- name: c\n  context: {cluster: fake, user: u}\n"
              "current-context: c\n");
    }
  }

  void TearDown() override {
    for (auto* child : {&operator_, &injector_}) {
      if (*child) {
        (*child)->stop(SIGTERM);
      }
    }
  }

  void create(const kube::Resource& resource, const Json& object) {
    std::string ns = object["metadata"].value("namespace", "");
    auto made = admin_->create(resource, resource.namespaced ? ns : "", object);
    ASSERT_TRUE(made.ok()) << made.error().describe() << "\n" << object.dump();
  }

  // The cluster `helm install` leaves, plus a meshed namespace with one
  // resource of each kind and a pod that runs without the proxy.
  void seedCluster() {
    create(res::namespaces(), Json{{"metadata", {{"name", kNs}}}});
    create(res::namespaces(),
           Json{{"metadata", {{"name", "demo"}, {"labels", {{"weft.io/inject", "enabled"}}}}}});
    const Json* hook = find(objects_, "MutatingWebhookConfiguration", "weft-injector");
    ASSERT_NE(hook, nullptr);
    create(res::mutatingWebhookConfigurations(), *hook);
    const Json* mesh = find(objects_, "Mesh", "default");
    ASSERT_NE(mesh, nullptr);
    create(res::meshes(), *mesh);
    for (const char* file : {"examples/traffic-policy.yaml", "examples/traffic-route.yaml",
                             "examples/access-policy.yaml"}) {
      auto text = readFile(sourcePath(file));
      ASSERT_TRUE(text.ok()) << file;
      auto docs = yaml::parseAll(*text);
      ASSERT_TRUE(docs.ok()) << file;
      for (const auto& doc : *docs) {
        std::string kind = doc.value("kind", "");
        create(kind == "TrafficPolicy"  ? res::trafficPolicies()
               : kind == "TrafficRoute" ? res::trafficRoutes()
                                        : res::accessPolicies(),
               doc);
      }
    }
    create(res::services(),
           Json{{"metadata", {{"name", "backend"}, {"namespace", "demo"}}},
                {"spec", {{"selector", {{"app", "backend"}}}, {"ports", {{{"port", 8080}}}}}}});
    create(res::pods(),
           Json{{"metadata",
                 {{"name", "backend-0"}, {"namespace", "demo"}, {"labels", {{"app", "backend"}}}}},
                {"spec", {{"containers", {{{"name", "app"}, {"image", "backend:1"}}}}}}});
  }

  void startOperator() {
    operator_ = std::make_unique<weft::testing::Child>(
        std::vector<std::string>{WEFT_OPERATOR_BIN, "--kubeconfig",
                                 dir_.file("operator.kubeconfig"), "--namespace", kNs,
                                 "--leader-identity", "weft-operator-0", "--discovery-listen",
                                 "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--lease-duration",
                                 "3s", "--renew-deadline", "2s", "--retry-period", "300ms"},
        dir_.file("operator.log"));
    std::regex discovery(R"(discovery API listening on .* \(port (\d+)\))");
    ASSERT_TRUE(eventually([&] {
      std::smatch m;
      std::string text = log("operator");
      if (std::regex_search(text, m, discovery)) {
        discoveryPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      return discoveryPort_ != 0 || !operator_->running();
    })) << log("operator");
    ASSERT_TRUE(operator_->running()) << log("operator");
  }

  void startInjector() {
    weft::testing::TestCert cert = weft::testing::makeSelfSignedCert("weft-injector");
    weft::testing::writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
    weft::testing::writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
    injector_ = std::make_unique<weft::testing::Child>(
        std::vector<std::string>{WEFT_INJECTOR_BIN, "--listen", "127.0.0.1:0", "--tls-cert",
                                 dir_.file("tls.crt"), "--tls-key", dir_.file("tls.key"),
                                 "--kubeconfig", dir_.file("injector.kubeconfig"),
                                 "--weft-namespace", kNs},
        dir_.file("injector.log"));
    std::regex serving("serving on port ([0-9]+)");
    ASSERT_TRUE(eventually([&] {
      std::smatch m;
      std::string text = log("injector");
      if (std::regex_search(text, m, serving)) {
        injectorPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      return injectorPort_ != 0 || !injector_->running();
    })) << log("injector");
    ASSERT_NE(injectorPort_, 0) << log("injector");
  }

  std::string log(const std::string& who) { return readFile(dir_.file(who + ".log")).valueOr(""); }

  // Whether an allowed request of `user` matched this verb and resource.
  bool served(const std::string& user, const std::string& verb, const std::string& resource,
              const std::string& name = "") {
    for (const auto& r : rbac_->allowed()) {
      std::string full = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
      if (r.user == user && r.verb == verb && full == resource &&
          (name.empty() || r.name == name)) {
        return true;
      }
    }
    return false;
  }

  Json get(const kube::Resource& resource, const std::string& ns, const std::string& name) {
    auto got = admin_->get(resource, ns, name);
    return got.ok() ? *got : Json();
  }

  std::vector<Json> objects_;
  weft::testing::TempDir dir_;
  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::shared_ptr<weft::testing::FakeRbac> rbac_;
  std::unique_ptr<kube::HttpKubeApi> admin_;
  std::unique_ptr<weft::testing::Child> operator_;
  std::unique_ptr<weft::testing::Child> injector_;
  std::uint16_t discoveryPort_ = 0;
  std::uint16_t injectorPort_ = 0;
};

TEST_F(ChartRbacTest, OperatorAndInjectorNeedEveryGrantedRightAndNoOther) {
  ASSERT_NO_FATAL_FAILURE(seedCluster());

  // A fresh install: the operator elects itself, makes the mesh CA, the
  // trust bundle, the injector's CA and certificate, and patches the caBundle.
  ASSERT_NO_FATAL_FAILURE(startOperator());
  ASSERT_TRUE(eventually([&] {
    Json hook = get(res::mutatingWebhookConfigurations(), "", "weft-injector");
    bool patched = hook.contains("webhooks") && !hook["webhooks"].empty();
    for (const auto& w : hook.value("webhooks", Json::array())) {
      patched = patched && !w["clientConfig"].value("caBundle", "").empty();
    }
    return patched && !get(res::configMaps(), kNs, "weft-trust-bundle").is_null();
  })) << log("operator");
  // Status on every kind, Events, and the Lease renewed (not only created).
  ASSERT_TRUE(eventually([&] {
    return served(kOperatorUser, "patch", "meshes/status") &&
           served(kOperatorUser, "patch", "trafficpolicies/status") &&
           served(kOperatorUser, "patch", "trafficroutes/status") &&
           served(kOperatorUser, "patch", "accesspolicies/status") &&
           served(kOperatorUser, "create", "events") && served(kOperatorUser, "update", "leases");
  })) << log("operator");
  // Certify: the proxy's token goes through a TokenReview.
  auto key = tls::generateKey();
  ASSERT_TRUE(key.ok());
  auto csr = tls::makeCsr(*key, "spiffe://cluster.local/ns/demo/sa/web");
  ASSERT_TRUE(csr.ok());
  weft::testing::RunResult certify;
  ASSERT_TRUE(eventually([&] {
    certify = weft::testing::runProcess(
        {"/usr/bin/curl", "-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "-H",
         "Authorization: Bearer web-token", "-H", "Content-Type: application/json", "--data-binary",
         json::dump(Json{{"csr", *csr}}),
         "https://127.0.0.1:" + std::to_string(discoveryPort_) + "/v1/identity/certify"});
    return certify.out == "200";
  })) << certify.out
      << certify.err << log("operator");

  // The injector follows namespace labels, looks up one it has not seen, and
  // reads the trust bundle the operator published for its proxies.
  ASSERT_NO_FATAL_FAILURE(startInjector());
  ASSERT_TRUE(eventually([&] {
    return served(kInjectorUser, "list", "namespaces") &&
           served(kInjectorUser, "watch", "namespaces") &&
           served(kInjectorUser, "get", "configmaps", "weft-trust-bundle");
  })) << log("injector");
  weft::testing::TestClient probe(injectorPort_, true);
  ASSERT_TRUE(eventually([&] { return probe.request("GET", "/readyz").status == 200; }))
      << log("injector");
  Json review = {{"apiVersion", "admission.k8s.io/v1"},
                 {"kind", "AdmissionReview"},
                 {"request",
                  {{"uid", "0b1c"},
                   {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                   {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                   {"namespace", "created-just-now"},
                   {"operation", "CREATE"},
                   {"userInfo", {{"username", "admin"}}},
                   {"object",
                    {{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", {{"name", "web"}, {"namespace", "created-just-now"}}},
                     {"spec", {{"containers", {{{"name", "web"}, {"image", "web:1"}}}}}}}}}}};
  weft::testing::TestClient client(injectorPort_, true);
  auto reply =
      client.request("POST", "/mutate", review.dump(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 200) << reply.body << log("injector");
  EXPECT_TRUE(served(kInjectorUser, "get", "namespaces", "created-just-now")) << log("injector");
  // A pod to mesh: its proxy gets the published bundle.
  review["request"]["namespace"] = "demo";
  review["request"]["object"]["metadata"]["namespace"] = "demo";
  auto meshed =
      client.request("POST", "/mutate", review.dump(), {{"Content-Type", "application/json"}});
  ASSERT_EQ(meshed.status, 200) << meshed.body << log("injector");
  auto patch = base64Decode(Json::parse(meshed.body)["response"].value("patch", ""));
  ASSERT_TRUE(patch.ok());
  std::string published =
      get(res::configMaps(), kNs, "weft-trust-bundle")["data"].value("ca-bundle.crt", "");
  ASSERT_FALSE(published.empty());
  EXPECT_NE(patch->find(Json(published).dump()), std::string::npos)
      << "WEFT_TRUST_ANCHORS is the ConfigMap's ca-bundle.crt:\n"
      << *patch;

  // A restart over stale state: the lease is handed over, and every Secret
  // and the ConfigMap are rewritten in place (update, not create).
  ASSERT_EQ(operator_->stop(SIGTERM), 0) << log("operator");
  operator_.reset();
  auto now = std::chrono::system_clock::now();
  auto oldCa = op::identity::createCa(now - std::chrono::hours(24 * 300));
  ASSERT_TRUE(oldCa.ok());
  auto stale = [&](const std::string& name, std::map<std::string, std::string> data) {
    Json secret = get(res::secrets(), kNs, name);
    ASSERT_FALSE(secret.is_null()) << name;
    secret["data"] = Json::object();
    for (const auto& [k, v] : data) {
      secret["data"][k] = base64Encode(v);
    }
    ASSERT_TRUE(admin_->update(res::secrets(), secret).ok());
  };
  // An issuer past 2/3 of its life (the operator made it: root.key is there).
  stale("weft-identity-issuer", {{"tls.crt", oldCa->certPem},
                                 {"tls.key", oldCa->keyPem},
                                 {"ca.crt", oldCa->caPem},
                                 {"root.key", oldCa->rootKeyPem}});
  stale("weft-injector-ca", {{"tls.crt", "not a certificate"}});
  stale("weft-injector-tls", {{"ca.crt", "not a certificate"}});
  Json bundle = get(res::configMaps(), kNs, "weft-trust-bundle");
  bundle["data"]["ca-bundle.crt"] = "stale";
  ASSERT_TRUE(admin_->update(res::configMaps(), bundle).ok());

  ASSERT_NO_FATAL_FAILURE(startOperator());
  ASSERT_TRUE(eventually([&] {
    Json issuer = get(res::secrets(), kNs, "weft-identity-issuer");
    Json ca = get(res::secrets(), kNs, "weft-injector-ca");
    Json leaf = get(res::secrets(), kNs, "weft-injector-tls");
    Json cm = get(res::configMaps(), kNs, "weft-trust-bundle");
    return secretValue(issuer, "tls.crt") != oldCa->certPem &&
           secretValue(issuer, "ca.crt") == oldCa->caPem &&
           tls::parseCert(secretValue(ca, "tls.crt")).ok() &&
           secretValue(leaf, "ca.crt") != "not a certificate" && cm.is_object() &&
           cm["data"].value("ca-bundle.crt", "").find("BEGIN CERTIFICATE") != std::string::npos;
  })) << log("operator");
  ASSERT_EQ(operator_->stop(SIGTERM), 0) << log("operator");
  operator_.reset();
  ASSERT_EQ(injector_->stop(SIGTERM), 0) << log("injector");
  injector_.reset();

  // (a) Nothing was denied.
  std::string denials;
  for (const auto& r : rbac_->denied()) {
    denials += "  " + r.describe() + "\n";
  }
  EXPECT_TRUE(denials.empty()) << "denied:\n" << denials;
  // (b) Every granted right was used.
  for (const auto& user : {kOperatorUser, kInjectorUser}) {
    ASSERT_FALSE(rbac_->grants(user).empty()) << user;
    std::string unused;
    for (const auto& g : rbac_->unused(user)) {
      unused += "  " + g.describe() + "\n";
    }
    EXPECT_TRUE(unused.empty()) << "granted but never used:\n" << unused;
  }
}

}  // namespace
}  // namespace weft::test::helm
