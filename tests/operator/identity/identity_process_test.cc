// The real weft-operator as the mesh CA. Kube mode, against the fake API
// server: it creates the issuer Secret, publishes the trust bundle
// ConfigMap, answers certify over HTTPS after a TokenReview with a chain that
// verifies against that bundle, and keeps the injector's Secret and the
// webhook's caBundle. Dir mode: the tokens file vouches, --issuer-dir holds
// the CA, and Inbound documents carry the trust bundle.
#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/file.h"
#include "common/json/json.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/resource.h"
#include "common/strings.h"
#include "common/tls/pki.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"
#include "tests/operator/stream_client.h"
#include "tests/support/process.h"

namespace weft::op {
namespace {

namespace fs = std::filesystem;
namespace res = kube::resources;
using json::Json;
using op::testing::httpGet;

struct Answer {
  int status = 0;
  std::string body;
};

class IdentityProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft-identity-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (child_) {
      EXPECT_EQ(child_->stop(SIGTERM), 0) << log();
    }
    fs::remove_all(dir_);
  }
  std::string log() const {
    auto text = readFile((dir_ / "operator.log").string());
    return text.ok() ? *text : "";
  }
  void startOperator(std::vector<std::string> args) {
    args.insert(args.begin(), WEFT_OPERATOR_BIN);
    for (const char* a : {"--discovery-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}) {
      args.emplace_back(a);
    }
    child_ = std::make_unique<weft::testing::Child>(args, (dir_ / "operator.log").string());
    static const std::regex kDiscovery(R"(discovery API listening on .* \(port (\d+)\))");
    static const std::regex kAdmin(R"(admin API listening on .* \(port (\d+)\))");
    ASSERT_TRUE(eventually(
        [&] {
          std::string text = log();
          std::smatch m;
          if (std::regex_search(text, m, kDiscovery)) {
            discoveryPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
          }
          if (std::regex_search(text, m, kAdmin)) {
            adminPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
          }
          return !child_->running() ||
                 (adminPort_ != 0 && httpGet(adminPort_, "/readyz").status == 200);
        },
        std::chrono::seconds(15)));
    ASSERT_TRUE(child_->running()) << log();
  }
  template <typename F>
  bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a process
    }
    return done();
  }
  // POST /v1/identity/certify with curl (a client that is not ours).
  Answer certify(const std::string& token, const std::string& body) {
    std::string file = (dir_ / "body.json").string();
    EXPECT_TRUE(writeFileAtomic(file, body).ok());
    std::vector<std::string> argv{
        "/usr/bin/curl",  "-sk",     "--max-time", "10", "-w",
        "\n%{http_code}", "-X",      "POST",       "-H", "Content-Type: application/json",
        "--data-binary",  "@" + file};
    if (!token.empty()) {
      argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    }
    argv.push_back("https://127.0.0.1:" + std::to_string(discoveryPort_) + "/v1/identity/certify");
    auto r = weft::testing::runProcess(argv);
    auto nl = r.out.rfind('\n');
    if (r.exitCode != 0 || nl == std::string::npos) {
      return Answer{0, r.out + r.err};
    }
    return Answer{std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
  }
  static std::string csrBody(const std::string& id, std::string* keyPem = nullptr) {
    auto key = tls::generateKey();
    auto csr = tls::makeCsr(*key, id);
    if (keyPem != nullptr) {
      *keyPem = tls::privateKeyPem(*key).value();
    }
    return json::dump(Json{{"csr", *csr}});
  }
  // The chain of a 200 answer verifies against `bundlePem` and names `id`.
  static void expectVerifies(const Answer& a, const std::string& bundlePem, const std::string& id) {
    ASSERT_EQ(a.status, 200) << a.body;
    auto doc = json::parse(a.body);
    ASSERT_TRUE(doc.ok()) << a.body;
    EXPECT_EQ((*doc)["identity"], id);
    auto leaf = tls::parseCert((*doc)["certificateChain"][0].get<std::string>());
    auto mid = tls::parseCerts((*doc)["certificateChain"][1].get<std::string>());
    auto roots = tls::parseCerts(bundlePem);
    ASSERT_TRUE(leaf.ok() && mid.ok() && roots.ok());
    auto ok = tls::verifyChain(*leaf, *mid, *roots, std::chrono::system_clock::now());
    EXPECT_TRUE(ok.ok()) << ok.error().describe();
    EXPECT_EQ(tls::spiffeId(*leaf), id);
  }
  long long metric(const std::string& series) const {
    auto answer = httpGet(adminPort_, "/metrics");
    auto at = answer.body.find(series + " ");
    return at == std::string::npos ? -1 : std::stoll(answer.body.substr(at + series.size() + 1));
  }

  fs::path dir_;
  std::unique_ptr<weft::testing::Child> child_;
  std::uint16_t discoveryPort_ = 0;
  std::uint16_t adminPort_ = 0;
};

TEST_F(IdentityProcessTest, KubeModeCaSecretsWebhookAndCertify) {
  auto pki = weft::testing::makeTestPki();
  ASSERT_TRUE(pki.ok());
  weft::testing::FakeApiServerOptions options;
  options.certPem = pki->serverCertPem;
  options.keyPem = pki->serverKeyPem;
  auto server = weft::testing::FakeApiServer::start(options);
  ASSERT_TRUE(server.ok()) << server.error().describe();
  (*server)->state().setRequiredToken("operator-token");
  (*server)->state().addToken("web-token", "system:serviceaccount:demo:web", {"weft.io/identity"});
  (*server)->state().addToken("api-token", "system:serviceaccount:demo:web",
                              {"https://kubernetes"});
  ASSERT_TRUE(writeFileAtomic((dir_ / "ca.crt").string(), pki->caCertPem).ok());
  ASSERT_TRUE(writeFileAtomic((dir_ / "kubeconfig").string(),
                              "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
                              "    server: " +
                                  (*server)->url() +
                                  "\n    certificate-authority: " + (dir_ / "ca.crt").string() +
                                  "\nusers:\n- name: op\n  user:\n    token: operator-token\n"
                                  "contexts:\n- name: fake\n  context: {cluster: fake, user: op}\n"
                                  "current-context: fake\n")
                  .ok());
  kube::KubeConfig config;
  config.server = (*server)->url();
  config.caPem = pki->caCertPem;
  config.token = "operator-token";
  auto api = kube::HttpKubeApi::create(config);
  ASSERT_TRUE(api.ok());
  Json hook = {{"apiVersion", "admissionregistration.k8s.io/v1"},
               {"kind", "MutatingWebhookConfiguration"},
               {"metadata", {{"name", "weft-injector"}}},
               {"webhooks", {{{"name", "pods.weft.io"}, {"clientConfig", Json::object()}}}}};
  ASSERT_TRUE((*api)->create(res::mutatingWebhookConfigurations(), "", hook).ok());

  startOperator({"--source", "kube", "--kubeconfig", (dir_ / "kubeconfig").string(), "--namespace",
                 "weft", "--leader-identity", "op-0"});

  std::string bundle;
  ASSERT_TRUE(eventually([&] {
    auto cm = (*api)->get(res::configMaps(), "weft", "weft-trust-bundle");
    bundle = cm.ok() ? json::getStringOr(*cm, "/data/ca-bundle.crt", "").valueOr("") : "";
    return !bundle.empty();
  })) << log();
  auto secret = (*api)->get(res::secrets(), "weft", "weft-identity-issuer");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*base64Decode((*secret)["data"]["ca.crt"].get<std::string>()), bundle);

  const std::string id = "spiffe://cluster.local/ns/demo/sa/web";
  Answer good;
  ASSERT_TRUE(eventually([&] {
    good = certify("web-token", csrBody(id));
    return good.status != 503;
  })) << good.body
      << log();
  expectVerifies(good, bundle, id);
  EXPECT_EQ(certify("api-token", csrBody(id)).status, 401) << "wrong audience";
  EXPECT_EQ(certify("", csrBody(id)).status, 401);
  EXPECT_EQ(certify("web-token", csrBody("spiffe://cluster.local/ns/demo/sa/admin")).status, 403);
  EXPECT_EQ(certify("web-token", "{\"csr\": \"nope\"}").status, 400);
  EXPECT_EQ(metric("weft_operator_certify_total{result=\"issued\"}"), 1);
  EXPECT_EQ(metric("weft_operator_certify_total{result=\"unauthenticated\"}"), 2);
  EXPECT_EQ(metric("weft_operator_certify_total{result=\"forbidden\"}"), 1);
  EXPECT_EQ(metric("weft_operator_certify_total{result=\"bad_request\"}"), 1);

  // The injector's serving certificate and the webhook's caBundle.
  Json patched;
  ASSERT_TRUE(eventually([&] {
    auto h = (*api)->get(res::mutatingWebhookConfigurations(), "", "weft-injector");
    patched = h.ok() ? *h : Json();
    return h.ok() && (*h)["webhooks"][0]["clientConfig"].contains("caBundle");
  })) << log();
  auto tlsSecret = (*api)->get(res::secrets(), "weft", "weft-injector-tls");
  ASSERT_TRUE(tlsSecret.ok());
  std::string caPem = *base64Decode((*tlsSecret)["data"]["ca.crt"].get<std::string>());
  EXPECT_EQ(patched["webhooks"][0]["clientConfig"]["caBundle"], base64Encode(caPem));
  auto leaf = tls::parseCert(*base64Decode((*tlsSecret)["data"]["tls.crt"].get<std::string>()));
  auto roots = tls::parseCerts(caPem);
  ASSERT_TRUE(leaf.ok() && roots.ok());
  EXPECT_TRUE(tls::verifyChain(*leaf, {}, *roots, std::chrono::system_clock::now()).ok());
  EXPECT_GT(metric("weft_operator_certificate_expiry_timestamp_seconds{certificate=\"injector\"}"),
            0);
  EXPECT_GT(metric("weft_operator_certificate_expiry_timestamp_seconds{certificate=\"root\"}"), 0);
}

TEST_F(IdentityProcessTest, DirModeTokensFileAndInboundTrustBundle) {
  fs::path mesh = dir_ / "mesh";
  fs::create_directories(mesh);
  ASSERT_TRUE(
      writeFileAtomic((mesh / "identity-tokens.yaml").string(), "tokens:\n  web-token: demo/web\n")
          .ok());
  ASSERT_TRUE(
      writeFileAtomic((mesh / "pods.yaml").string(),
                      "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: demo}\n"
                      "spec: {serviceAccountName: web}\nstatus: {podIP: 127.0.3.1}\n---\n"
                      "apiVersion: v1\nkind: Pod\nmetadata: {name: db-0, namespace: demo}\n"
                      "spec: {serviceAccountName: db}\nstatus: {podIP: 127.0.3.2}\n")
          .ok());
  startOperator({"--source", "dir:" + mesh.string(), "--issuer-dir", (dir_ / "ca").string()});

  std::string bundle;
  ASSERT_TRUE(eventually([&] {
    auto text = readFile((dir_ / "ca" / "ca.crt").string());
    bundle = text.ok() ? *text : "";
    return !bundle.empty();
  })) << log();
  const std::string id = "spiffe://cluster.local/ns/demo/sa/web";
  Answer good;
  std::string keyPem;
  ASSERT_TRUE(eventually([&] {
    good = certify("web-token", csrBody(id, &keyPem));
    return good.status != 503;
  })) << good.body
      << log();
  expectVerifies(good, bundle, id);
  EXPECT_EQ(certify("someone-else", csrBody(id)).status, 401);
  auto answer = json::parse(good.body).value();
  op::testing::ClientCertificate web{answer["certificateChain"][0].get<std::string>() +
                                         answer["certificateChain"][1].get<std::string>(),
                                     keyPem};

  // Discovery by default: a workload certificate, and only the own pod's Inbound.
  auto refusal = [&](const std::string& target, const op::testing::ClientCertificate& cert) {
    std::string error;
    auto c = op::testing::StreamClient::open(discoveryPort_, target, "", &error,
                                             std::chrono::seconds(5), cert);
    EXPECT_TRUE(c) << error;
    return c ? std::pair{c->status(), c->readAll(std::chrono::seconds(2))}
             : std::pair{0, std::string()};
  };
  auto anonymous = refusal("/v1/discovery/inbound?pod=demo/web-1", {});
  EXPECT_EQ(anonymous.first, 401);
  EXPECT_NE(anonymous.second.find("\"error\""), std::string::npos) << anonymous.second;
  auto someoneElses = refusal("/v1/discovery/inbound?pod=demo/db-0", web);
  EXPECT_EQ(someoneElses.first, 403);
  EXPECT_NE(someoneElses.second.find("sa/db"), std::string::npos) << someoneElses.second;
  auto foreign = weft::testing::makeTestPki("spiffe-less");
  ASSERT_TRUE(foreign.ok());
  auto stranger = refusal("/v1/discovery/outbound?authority=web.demo:80",
                          {foreign->clientCertPem + foreign->caCertPem, foreign->clientKeyPem});
  EXPECT_EQ(stranger.first, 401);
  EXPECT_NE(stranger.second.find("trust bundle"), std::string::npos) << stranger.second;
  EXPECT_EQ(metric("weft_operator_discovery_refused_total{reason=\"no_certificate\"}"), 1);
  EXPECT_EQ(metric("weft_operator_discovery_refused_total{reason=\"forbidden\"}"), 1);
  EXPECT_EQ(metric("weft_operator_discovery_refused_total{reason=\"invalid_certificate\"}"), 1);

  std::string error;
  auto stream =
      op::testing::StreamClient::open(discoveryPort_, "/v1/discovery/inbound?pod=demo/web-1", "",
                                      &error, std::chrono::seconds(5), web);
  ASSERT_TRUE(stream) << error;
  ASSERT_EQ(stream->status(), 200);
  Json doc;
  ASSERT_TRUE(eventually([&] {
    auto line = stream->nextLine(std::chrono::milliseconds(200));
    if (line) {
      doc = Json::parse(*line);
    }
    return doc.is_object() && !doc["trustBundle"].empty();
  })) << doc.dump()
      << log();
  EXPECT_EQ(doc["trustBundle"], (*json::parse(good.body))["trustBundle"]);
  EXPECT_EQ(doc["trustBundle"][0], bundle);
}

}  // namespace
}  // namespace weft::op
