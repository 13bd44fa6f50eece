// A proxy in a real cluster trusts the control plane through the mesh's
// trust anchors only: the real weft-operator (kube mode, against the fake API
// server) serves discovery with a certificate from the mesh issuer, and a
// real weft-proxy given nothing but WEFT_TRUST_ANCHORS (the ConfigMap's PEM,
// as the injector hands it) and a token certifies and subscribes; a wrong
// name is refused; renewals and an issuer change never drop its streams.
#include <csignal>
#include <cstdlib>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "common/json/json.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/resource.h"
#include "common/strings.h"
#include "common/tls/pki.h"
#include "operator/src/identity/ca.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"
#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

namespace res = kube::resources;
using json::Json;

constexpr const char* kNs = "weft";
constexpr const char* kServiceName = "weft-control.weft.svc";

class ControlPlaneTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = makeTestPki();
    ASSERT_TRUE(pki.ok());
    FakeApiServerOptions options;
    options.certPem = pki->serverCertPem;
    options.keyPem = pki->serverKeyPem;
    auto server = FakeApiServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().describe();
    fake_ = std::move(*server);
    fake_->state().setRequiredToken("operator-token");
    fake_->state().addToken("web-token", "system:serviceaccount:demo:web", {"weft.io/identity"});
    dir_.write("ca.crt", pki->caCertPem);
    dir_.write("kubeconfig",
               "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
               "    server: " +
                   fake_->url() + "\n    certificate-authority: " + dir_.file("ca.crt") +
                   "\nusers:\n- name: op\n  user:\n    token: operator-token\n"
                   "contexts:\n- name: fake\n  context: {cluster: fake, user: op}\n"
                   "current-context: fake\n");
    dir_.write("web-token", "web-token\n");
    kube::KubeConfig config;
    config.server = fake_->url();
    config.caPem = pki->caCertPem;
    config.token = "operator-token";
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
    ASSERT_TRUE(api_->create(res::pods(), "demo",
                             Json{{"apiVersion", "v1"},
                                  {"kind", "Pod"},
                                  {"metadata", {{"name", "web-0"}, {"namespace", "demo"}}},
                                  {"spec",
                                   {{"serviceAccountName", "web"},
                                    {"containers", {{{"name", "app"}, {"image", "web:1"}}}}}},
                                  {"status", {{"podIP", "127.0.0.1"}}}})
                    .ok());
  }

  void TearDown() override {
    proxy_.reset();
    if (operator_) {
      EXPECT_EQ(operator_->stop(SIGTERM), 0) << operatorLog();
    }
  }

  void startOperator(const std::vector<std::string>& extra) {
    std::vector<std::string> args{WEFT_OPERATOR_BIN,
                                  "--source",
                                  "kube",
                                  "--kubeconfig",
                                  dir_.file("kubeconfig"),
                                  "--namespace",
                                  kNs,
                                  "--leader-identity",
                                  "op-0",
                                  "--discovery-listen",
                                  "127.0.0.1:0",
                                  "--admin-listen",
                                  "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    operator_ = std::make_unique<Child>(args, dir_.file("operator.log"));
    static const std::regex kDiscovery(R"(discovery API listening on .* \(port (\d+)\))");
    static const std::regex kAdmin(R"(admin API listening on .* \(port (\d+)\))");
    ASSERT_TRUE(waitFor(
        [&] {
          std::string text = operatorLog();
          std::smatch m;
          if (discoveryPort_ == 0 && std::regex_search(text, m, kDiscovery)) {
            discoveryPort_ = static_cast<unsigned short>(std::stoi(m[1]));
          }
          if (adminPort_ == 0 && std::regex_search(text, m, kAdmin)) {
            adminPort_ = static_cast<unsigned short>(std::stoi(m[1]));
          }
          return discoveryPort_ != 0 && adminPort_ != 0;
        },
        10s))
        << operatorLog();
    // Ready only once the mesh issuer signed the discovery certificate.
    ASSERT_TRUE(waitFor(
        [&] {
          auto r = get(adminPort_, "admin", "/readyz", 1s);
          return r && r->status == 200;
        },
        20s))
        << operatorLog();
    auto cm = api_->get(res::configMaps(), kNs, "weft-trust-bundle");
    ASSERT_TRUE(cm.ok()) << cm.error().describe();
    anchors_ = json::getStringOr(*cm, "/data/ca-bundle.crt", "").valueOr("");
    ASSERT_NE(anchors_.find("BEGIN CERTIFICATE"), std::string::npos);
    dir_.write("anchors.pem", anchors_);
  }

  // The proxy of pod demo/web-0 with its token and WEFT_TRUST_ANCHORS only.
  void startProxy(const std::string& controlPlaneHost) {
    ::setenv("POD_NAMESPACE", "demo", 1);
    ::setenv("POD_NAME", "web-0", 1);
    ::setenv("SERVICE_ACCOUNT", "web", 1);
    ::setenv("WEFT_TRUST_ANCHORS", anchors_.c_str(), 1);
    proxy_ = std::make_unique<Proxy>(
        dir_, "",
        std::vector<std::string>{
            "--control-plane", controlPlaneHost + ":" + std::to_string(discoveryPort_),
            "--identity-token-file", dir_.file("web-token"), "--workers", "1"});
    for (const char* name :
         {"POD_NAMESPACE", "POD_NAME", "SERVICE_ACCOUNT", "WEFT_TRUST_ANCHORS"}) {
      ::unsetenv(name);
    }
  }

  bool proxyReady() {
    auto r = get(proxy_->ports().admin, "admin", "/ready", 1s);
    return r && r->status == 200;
  }

  // A string of the proxy's /config, "" while absent.
  std::string configAt(const std::string& pointer) {
    return json::getStringOr(proxyConfig(), pointer, "").valueOr("");
  }

  Json proxyConfig() {
    auto r = get(proxy_->ports().admin, "admin", "/config", 2s);
    auto doc = r ? json::parse(r->body) : Result<Json>(makeError(ErrorCode::kUnavailable, ""));
    return doc.ok() ? *doc : Json();
  }

  double operatorMetric(const std::string& name, const std::vector<std::string>& labels = {}) {
    auto m = get(adminPort_, "admin", "/metrics", 2s);
    return m ? metricValue(m->body, name, labels) : -1;
  }

  std::string operatorLog() const {
    return runProcess({"/bin/cat", dir_.file("operator.log")}).out;
  }

  int issuedCount() const {
    std::string text = operatorLog();
    int n = 0;
    for (auto at = text.find("discovery serving certificate issued"); at != std::string::npos;
         at = text.find("discovery serving certificate issued", at + 1)) {
      ++n;
    }
    return n;
  }

  // The chain the control plane serves to `name`, as openssl sees it.
  std::string servedChain(const std::string& name) {
    auto r = runProcess(
        {"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(discoveryPort_),
         "-servername", name, "-showcerts"},
        "", 10s);
    return r.out;
  }

  // curl, a client that is not ours, verifying the control plane against the
  // anchors and `name` (resolved to loopback).
  std::string curlCertify(const std::string& name) {
    auto r = runProcess(
        {"/usr/bin/curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
         "--cacert", dir_.file("anchors.pem"), "--resolve",
         name + ":" + std::to_string(discoveryPort_) + ":127.0.0.1", "-X", "POST",
         "https://" + name + ":" + std::to_string(discoveryPort_) + "/v1/identity/certify"});
    return r.out.empty() ? "curl: " + r.err : r.out;
  }

  TempDir dir_;
  std::unique_ptr<FakeApiServer> fake_;
  std::unique_ptr<kube::HttpKubeApi> api_;
  std::unique_ptr<Child> operator_;
  std::unique_ptr<Proxy> proxy_;
  unsigned short discoveryPort_ = 0;
  unsigned short adminPort_ = 0;
  std::string anchors_;
};

TEST_F(ControlPlaneTrustTest, AProxyWithOnlyTheTrustAnchorsCertifiesAndSubscribes) {
  ASSERT_NO_FATAL_FAILURE(startOperator({"--discovery-dns-name", "localhost"}));
  // The Service's names verify against the published bundle alone.
  EXPECT_EQ(curlCertify(kServiceName), "401") << "TLS verified, then no token";
  EXPECT_EQ(curlCertify(std::string(kServiceName) + ".cluster.local"), "401");

  ASSERT_NO_FATAL_FAILURE(startProxy("localhost"));
  ASSERT_TRUE(waitFor([&] { return proxyReady(); }, 15s)) << proxy_->log() << operatorLog();
  ASSERT_TRUE(waitFor([&] { return configAt("/inbound/pod") == "demo/web-0"; }, 10s))
      << proxy_->log();
  EXPECT_EQ(configAt("/controlPlane/verifiedWith"), "mesh-trust-bundle");
  EXPECT_EQ(configAt("/workloadIdentity/identity"), "spiffe://cluster.local/ns/demo/sa/web");
  EXPECT_EQ(operatorMetric("weft_operator_certify_total", {"result=\"issued\""}), 1);
  EXPECT_GE(operatorMetric("weft_operator_discovery_streams"), 1);
  EXPECT_EQ(operatorMetric("weft_operator_discovery_refused_total"), 0) << operatorLog();
}

TEST_F(ControlPlaneTrustTest, ANameTheCertificateDoesNotCarryIsRefused) {
  ASSERT_NO_FATAL_FAILURE(startOperator({}));
  // localhost is not one of its names without --discovery-dns-name.
  ASSERT_NO_FATAL_FAILURE(startProxy("localhost"));
  ASSERT_TRUE(
      waitFor([&] { return proxy_->log().find("hostname mismatch") != std::string::npos; }, 10s))
      << proxy_->log();
  EXPECT_NE(proxy_->log().find("TLS handshake with localhost: certificate verify failed"),
            std::string::npos)
      << proxy_->log();
  EXPECT_FALSE(proxyReady());
  EXPECT_EQ(operatorMetric("weft_operator_certify_total", {"result=\"issued\""}), 0);
  EXPECT_EQ(operatorMetric("weft_operator_discovery_streams_total"), 0);
}

// Renewed every few seconds, and again after the issuer changed: new
// connections verify each new certificate, the proxy's stream stays open and
// keeps receiving documents.
TEST_F(ControlPlaneTrustTest, RenewalAndIssuerChangeKeepTheStreamUp) {
  ASSERT_NO_FATAL_FAILURE(startOperator(
      {"--discovery-dns-name", "localhost", "--discovery-certificate-lifetime", "6s"}));
  ASSERT_NO_FATAL_FAILURE(startProxy("localhost"));
  ASSERT_TRUE(waitFor([&] { return configAt("/inbound/pod") == "demo/web-0"; }, 15s))
      << proxy_->log() << operatorLog();
  double streams = operatorMetric("weft_operator_discovery_streams_total");
  ASSERT_GE(streams, 1);
  double expiry =
      operatorMetric("weft_operator_certificate_expiry_timestamp_seconds", {"discovery"});

  int issued = issuedCount();
  ASSERT_TRUE(waitFor([&] { return issuedCount() >= issued + 2; }, 15s)) << operatorLog();
  EXPECT_GT(operatorMetric("weft_operator_certificate_expiry_timestamp_seconds", {"discovery"}),
            expiry);
  EXPECT_EQ(curlCertify("localhost"), "401") << "the renewed certificate verifies";

  // The issuer changes (renewed under the same root, as the operator does
  // itself past 2/3 of its life): the next certificate is signed by it.
  auto secret = api_->get(res::secrets(), kNs, "weft-identity-issuer");
  ASSERT_TRUE(secret.ok());
  op::identity::CaFiles files;
  for (auto [key, out] :
       {std::pair{"tls.crt", &files.certPem}, std::pair{"tls.key", &files.keyPem},
        std::pair{"ca.crt", &files.caPem}, std::pair{"root.key", &files.rootKeyPem}}) {
    *out = base64Decode((*secret)["data"][key].get<std::string>()).valueOr("");
  }
  auto renewed = op::identity::renewIssuer(files, std::chrono::system_clock::now());
  ASSERT_TRUE(renewed.ok()) << renewed.error().describe();
  (*secret)["data"]["tls.crt"] = base64Encode(renewed->certPem);
  (*secret)["data"]["tls.key"] = base64Encode(renewed->keyPem);
  ASSERT_TRUE(api_->update(res::secrets(), *secret).ok());
  ASSERT_EQ(::kill(operator_->pid(), SIGHUP), 0);
  auto newIssuer = tls::parseCert(renewed->certPem);
  ASSERT_TRUE(newIssuer.ok());
  std::string chain;
  ASSERT_TRUE(waitFor(
      [&] {
        chain = servedChain("localhost");
        auto certs = tls::parseCerts(chain);
        return certs.ok() && certs->size() == 2 && tls::signedBy((*certs)[0], *newIssuer);
      },
      15s))
      << chain << operatorLog();
  EXPECT_EQ(curlCertify("localhost"), "401") << "still verified by the same anchors";

  // The stream opened before all this is the one still delivering.
  auto pod = api_->get(res::pods(), "demo", "web-0");
  ASSERT_TRUE(pod.ok());
  (*pod)["metadata"]["annotations"]["weft.io/probe-paths"] = R"([{"port":8080,"path":"/healthz"}])";
  ASSERT_TRUE(api_->update(res::pods(), *pod).ok());
  ASSERT_TRUE(waitFor([&] { return configAt("/inbound/probes/0/path") == "/healthz"; }, 10s))
      << proxy_->log() << operatorLog();
  EXPECT_EQ(operatorMetric("weft_operator_discovery_streams_total"), streams)
      << "no stream was reopened";
  EXPECT_TRUE(proxyReady());
}

// --control-plane needs roots to verify the control plane with, and says
// which ones it takes.
TEST(ControlPlaneTrustFlagsTest, RootsAreRequiredAndChecked) {
  TempDir dir;
  dir.write("junk.pem", "not a certificate\n");
  auto proxy = [](std::vector<std::string> args) {
    args.insert(args.begin(), {WEFT_PROXY_BIN, "--control-plane", "weft-control.weft.svc:8443"});
    return runProcess(args);
  };
  ::unsetenv("WEFT_TRUST_ANCHORS");
  auto r = proxy({});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--control-plane needs the roots of the control plane's certificate: env "
                       "WEFT_TRUST_ANCHORS"),
            std::string::npos)
      << r.err;
  r = proxy({"--trust-anchors", dir.file("junk.pem")});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--trust-anchors " + dir.file("junk.pem") + ": no PEM certificate"),
            std::string::npos)
      << r.err;
  r = proxy({"--trust-anchors", dir.file("junk.pem"), "--control-plane-ca", dir.file("junk.pem")});
  EXPECT_EQ(r.exitCode, 2) << "a usage error";
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  ::setenv("WEFT_TRUST_ANCHORS", "not a certificate", 1);
  r = proxy({});
  ::unsetenv("WEFT_TRUST_ANCHORS");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("WEFT_TRUST_ANCHORS: no PEM certificate"), std::string::npos) << r.err;
  r = runProcess({WEFT_PROXY_BIN, "--trust-anchors", dir.file("junk.pem")});
  EXPECT_EQ(r.exitCode, 2) << "a usage error";
  EXPECT_NE(r.err.find("--control-plane"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace weft::testing
