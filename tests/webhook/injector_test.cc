// The weft-injector binary over real TLS on loopback: a recorded
// AdmissionReview with the apiserver's headers, keep-alive, health, metrics,
// malformed input, certificate rotation from files, and SIGTERM.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/asio.h"
#include "common/file.h"
#include "common/json/json.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/resource.h"
#include "tests/common/http/test_tls.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"
#include "tests/support/process.h"
#include "tests/webhook/base64_decode.h"

namespace weft {
namespace {

using json::Json;
using ::testing::HasSubstr;
using testing::TestClient;

template <class F>
bool waitFor(F done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::string fixture(const std::string& name) {
  auto text = readFile(std::string(WEFT_WEBHOOK_FIXTURES) + "/" + name);
  EXPECT_TRUE(text.ok()) << name;
  return text.ok() ? *text : "";
}

// Request headers as recorded from kube-apiserver (minus Host/Content-Length,
// which the client sets).
std::vector<std::pair<std::string, std::string>> recordedHeaders(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(fixture(name));
  std::string line;
  std::getline(lines, line);  // request line
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (key != "Host" && key != "Content-Length") {
      out.emplace_back(key, value);
    }
  }
  return out;
}

class InjectorBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = testing::makeSelfSignedCert("injector-one");
    testing::writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
    testing::writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
    child_ = std::make_unique<testing::Child>(
        std::vector<std::string>{WEFT_INJECTOR_BIN, "--listen", "127.0.0.1:0", "--tls-cert",
                                 dir_.file("tls.crt"), "--tls-key", dir_.file("tls.key"),
                                 "--kube-version", "v1.30.2", "--inject-namespace", "fixtures"},
        dir_.file("injector.log"));
    std::regex serving("serving on port ([0-9]+)");
    ASSERT_TRUE(waitFor(
        [&] {
          auto log = readFile(dir_.file("injector.log"));
          std::smatch m;
          if (log.ok() && std::regex_search(*log, m, serving)) {
            port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
            return true;
          }
          return !child_->running();
        },
        std::chrono::seconds(10)));
    ASSERT_NE(port_, 0) << readFile(dir_.file("injector.log")).valueOr("");
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::Child> child_;
  std::uint16_t port_ = 0;
};

TEST_F(InjectorBinaryTest, MutatesRecordedReviewOverTlsWithKeepAlive) {
  TestClient client(port_, true);
  EXPECT_EQ(client.peerCommonName(), "injector-one");
  auto headers = recordedHeaders("admission-pod-create.request-headers.txt");
  ASSERT_FALSE(headers.empty());
  for (int i = 0; i < 2; ++i) {
    auto reply = client.request("POST", "/mutate?timeout=5s",
                                fixture("admission-pod-create.request.json"), headers);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(reply.keepAlive);
    EXPECT_EQ(reply.header("Content-Type"), "application/json");
    auto review = json::parse(reply.body);
    ASSERT_TRUE(review.ok());
    EXPECT_EQ((*review)["response"]["uid"], "84051ce3-4449-4880-b4c6-e3c01264ef2f");
    EXPECT_EQ((*review)["response"]["allowed"], true);
    EXPECT_EQ((*review)["response"]["patchType"], "JSONPatch");
  }
  auto bad = client.request("POST", "/mutate", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_EQ(client.request("GET", "/mutate").status, 405);
  EXPECT_EQ(client.request("GET", "/nope").status, 404);
  auto metrics = client.request("GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("weft_injector_admissions_total{result=\"injected\"} 2"));
  EXPECT_THAT(metrics.body, HasSubstr("weft_injector_admissions_total{result=\"invalid\"} 1"));
  EXPECT_THAT(metrics.body, HasSubstr("weft_injector_admission_duration_seconds_count 3"));
  EXPECT_THAT(metrics.body,
              HasSubstr("# TYPE weft_injector_admission_duration_seconds histogram\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("weft_injector_admission_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("weft_injector_admission_duration_seconds_bucket{le=\"0.0005\"} "));
}

TEST_F(InjectorBinaryTest, PicksUpRotatedCertificateAndKeepsOldConnection) {
  TestClient old(port_, true);
  ASSERT_EQ(old.request("GET", "/healthz").status, 200);
  auto next = testing::makeSelfSignedCert("injector-two");
  testing::writeFileAtomically(dir_.file("tls.key"), next.keyPem);
  testing::writeFileAtomically(dir_.file("tls.crt"), next.certPem);
  // The binary checks the files every 2 s.
  EXPECT_TRUE(waitFor([&] { return TestClient(port_, true).peerCommonName() == "injector-two"; },
                      std::chrono::seconds(10)));
  EXPECT_EQ(old.request("GET", "/healthz").status, 200);
  EXPECT_EQ(old.peerCommonName(), "injector-one");
}

TEST_F(InjectorBinaryTest, StopsCleanlyOnSigterm) {
  TestClient idle(port_, true);
  ASSERT_EQ(idle.request("GET", "/healthz").status, 200);
  EXPECT_EQ(child_->stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// weft-injector with --kubeconfig against the fake API server.
class InjectorKubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::makeTestPki();
    ASSERT_TRUE(pki.ok());
    testing::FakeApiServerOptions fakeOptions;
    fakeOptions.certPem = pki->serverCertPem;
    fakeOptions.keyPem = pki->serverKeyPem;
    auto fake = testing::FakeApiServer::start(fakeOptions);
    ASSERT_TRUE(fake.ok());
    fake_ = std::move(*fake);
    fake_->state().setRequiredToken("injector-token");
    kube::KubeConfig config;
    config.server = fake_->url();
    config.caPem = pki->caCertPem;
    config.token = "injector-token";
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
    auto cert = testing::makeSelfSignedCert("injector");
    testing::writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
    testing::writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
    testing::writeFileAtomically(dir_.file("ca.crt"), pki->caCertPem);
    writeKubeconfig(fake_->url());
    // What the operator publishes: the injector hands it to every proxy.
    bundlePem_ = testing::makeSelfSignedCert("weft-root-ca").certPem;
    ASSERT_TRUE(api_->create(kube::resources::configMaps(), "weft-system",
                             Json{{"metadata", {{"name", "weft-trust-bundle"}}},
                                  {"data", {{"ca-bundle.crt", bundlePem_}}}})
                    .ok());
  }

  void writeKubeconfig(const std::string& server) {
    testing::writeFileAtomically(dir_.file("kubeconfig"),
                                 "apiVersion: v1\nkind: Config\n"
                                 "clusters:\n- name: fake\n  cluster:\n"
                                 "    server: " +
                                     server +
                                     "\n    certificate-authority: ca.crt\n"
                                     "users:\n- name: u\n  user:\n"
                                     "    token: injector-token\n"
                                     "contexts:\n- name: c\n  context:\n"
                                     "    cluster: fake\n    user: u\n"
                                     "current-context: c\n");
  }

  // Starts the binary and waits until it serves (and, when `ready`, until it
  // has the trust bundle); extra flags after the defaults.
  void start(const std::vector<std::string>& extra,
             std::chrono::seconds limit = std::chrono::seconds(10), bool ready = true) {
    std::vector<std::string> args{
        WEFT_INJECTOR_BIN,    "--listen",           "127.0.0.1:0",
        "--tls-cert",         dir_.file("tls.crt"), "--tls-key",
        dir_.file("tls.key"), "--kubeconfig",       dir_.file("kubeconfig")};
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = std::make_unique<testing::Child>(args, dir_.file("injector.log"));
    std::regex serving("serving on port ([0-9]+)");
    ASSERT_TRUE(waitFor(
        [&] {
          std::smatch m;
          std::string text = log();
          if (std::regex_search(text, m, serving)) {
            port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
            return true;
          }
          return !child_->running();
        },
        limit));
    ASSERT_NE(port_, 0) << log();
    if (ready) {
      ASSERT_TRUE(waitFor(
          [&] { return TestClient(port_, true).request("GET", "/readyz").status == 200; }, limit))
          << log();
    }
  }

  std::string log() { return readFile(dir_.file("injector.log")).valueOr(""); }

  // The env WEFT_TRUST_ANCHORS of the proxy an admission response adds.
  static std::string injectedAnchors(const Json& response) {
    auto ops = json::parse(testing::base64Decode(response.value("patch", "")));
    if (!ops.ok()) {
      return "";
    }
    std::string out;
    auto scan = [&](const Json& c) {
      if (c.is_object() && c.value("name", "") == "weft-proxy" && c.contains("env")) {
        for (const Json& e : c["env"]) {
          if (e.value("name", "") == "WEFT_TRUST_ANCHORS") {
            out = e.value("value", "");
          }
        }
      }
    };
    for (const Json& op : *ops) {
      const Json& v = op.value("value", Json());
      if (v.is_array()) {
        std::for_each(v.begin(), v.end(), scan);
      } else {
        scan(v);
      }
    }
    return out;
  }

  // The AdmissionReview response for the recorded pod in namespace `ns`.
  Json mutate(const std::string& ns) {
    auto review = json::parse(fixture("admission-pod-create.request.json"));
    EXPECT_TRUE(review.ok());
    Json r = *review;
    r["request"]["namespace"] = ns;
    r["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "enabled";
    TestClient client(port_, true);
    auto reply = client.request("POST", "/mutate", r.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    auto parsed = json::parse(reply.body);
    return parsed.ok() ? (*parsed)["response"] : Json();
  }

  // Whether the patch of an admission response makes weft-proxy a native sidecar.
  static bool proxyIsNativeSidecar(const Json& response) {
    std::string patch = response.value("patch", "");
    auto decoded = testing::base64Decode(patch);
    auto ops = json::parse(decoded);
    EXPECT_TRUE(ops.ok()) << decoded;
    if (!ops.ok()) {
      return false;
    }
    for (const Json& op : *ops) {
      const Json& v = op.value("value", Json());
      auto isNativeProxy = [](const Json& c) {
        return c.is_object() && c.value("name", "") == "weft-proxy" &&
               c.value("restartPolicy", "") == "Always";
      };
      if (op.value("path", "").rfind("/spec/initContainers", 0) == 0 &&
          (isNativeProxy(v) || (v.is_array() && std::any_of(v.begin(), v.end(), isNativeProxy)))) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<testing::FakeApiServer> fake_;
  std::unique_ptr<kube::HttpKubeApi> api_;
  testing::TempDir dir_;
  std::unique_ptr<testing::Child> child_;
  std::uint16_t port_ = 0;
  std::string bundlePem_;
};

// Every proxy gets the ConfigMap's roots, and a changed ConfigMap reaches the
// next admission without a restart (read every --trust-bundle-refresh).
TEST_F(InjectorKubeTest, ProxiesGetTheTrustBundleOfTheConfigMap) {
  start({"--kube-version", "v1.30.2", "--trust-bundle-refresh", "100ms"});
  EXPECT_EQ(injectedAnchors(mutate("apps")), bundlePem_);
  EXPECT_THAT(log(), HasSubstr("mesh trust bundle loaded from ConfigMap "
                               "weft-system/weft-trust-bundle: 1 root(s)"));

  std::string rotated = bundlePem_ + testing::makeSelfSignedCert("weft-root-ca-2").certPem;
  auto cm = api_->get(kube::resources::configMaps(), "weft-system", "weft-trust-bundle");
  ASSERT_TRUE(cm.ok());
  (*cm)["data"]["ca-bundle.crt"] = rotated;
  ASSERT_TRUE(api_->update(kube::resources::configMaps(), *cm).ok());
  ASSERT_TRUE(
      waitFor([&] { return injectedAnchors(mutate("apps")) == rotated; }, std::chrono::seconds(10)))
      << log();
  EXPECT_THAT(log(), HasSubstr("2 root(s)"));

  // Garbage in the ConfigMap is not injected: the last good bundle stays.
  auto again = api_->get(kube::resources::configMaps(), "weft-system", "weft-trust-bundle");
  ASSERT_TRUE(again.ok());
  (*again)["data"]["ca-bundle.crt"] = "not a certificate";
  ASSERT_TRUE(api_->update(kube::resources::configMaps(), *again).ok());
  ASSERT_TRUE(
      waitFor([&] { return log().find("keeping the bundle loaded before") != std::string::npos; },
              std::chrono::seconds(10)))
      << log();
  EXPECT_EQ(injectedAnchors(mutate("apps")), rotated);
  EXPECT_EQ(child_->stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// Before the operator publishes the bundle the injector is alive but not
// ready, and refuses pods to mesh (500: failurePolicy decides) rather than
// inject proxies that could never trust the control plane.
TEST_F(InjectorKubeTest, NotReadyAndRefusingPodsToMeshUntilTheBundleExists) {
  ASSERT_TRUE(api_->remove(kube::resources::configMaps(), "weft-system", "weft-trust-bundle").ok());
  start({"--kube-version", "v1.30.2", "--trust-bundle-refresh", "100ms"}, std::chrono::seconds(10),
        false);
  TestClient client(port_, true);
  auto readyz = client.request("GET", "/readyz");
  EXPECT_EQ(readyz.status, 503);
  EXPECT_THAT(readyz.body, HasSubstr("waiting for the mesh trust bundle (ConfigMap "
                                     "weft-system/weft-trust-bundle)"));
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  auto review = json::parse(fixture("admission-pod-create.request.json"));
  ASSERT_TRUE(review.ok());
  Json r = *review;
  r["request"]["namespace"] = "apps";
  r["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "enabled";
  auto refused = client.request("POST", "/mutate", r.dump());
  EXPECT_EQ(refused.status, 500);
  EXPECT_THAT(refused.body, HasSubstr("trust bundle"));
  r["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "disabled";
  EXPECT_EQ(client.request("POST", "/mutate", r.dump()).status, 200) << "pods not meshed pass";
  EXPECT_TRUE(waitFor(
      [&] { return log().find("not found (the operator creates it)") != std::string::npos; },
      std::chrono::seconds(5)))
      << log();

  ASSERT_TRUE(api_->create(kube::resources::configMaps(), "weft-system",
                           Json{{"metadata", {{"name", "weft-trust-bundle"}}},
                                {"data", {{"ca-bundle.crt", bundlePem_}}}})
                  .ok());
  ASSERT_TRUE(
      waitFor([&] { return TestClient(port_, true).request("GET", "/readyz").status == 200; },
              std::chrono::seconds(10)))
      << log();
  EXPECT_EQ(injectedAnchors(mutate("apps")), bundlePem_);
}

// The namespace opt-in comes from the API server's labels.
TEST_F(InjectorKubeTest, NamespaceLabelFromApiServer) {
  ASSERT_TRUE(
      api_->create(kube::resources::namespaces(), "",
                   Json{{"metadata",
                         {{"name", "labelled"}, {"labels", {{"weft.io/inject", "enabled"}}}}}})
          .ok());
  start({"--kube-version", "v1.28.0"});
  auto review = json::parse(fixture("admission-pod-create.request.json"));
  ASSERT_TRUE(review.ok());
  auto send = [&](const std::string& ns) {
    Json r = *review;
    r["request"]["namespace"] = ns;
    TestClient client(port_, true);
    auto reply = client.request("POST", "/mutate", r.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    auto parsed = json::parse(reply.body);
    return parsed.ok() ? (*parsed)["response"] : Json();
  };
  auto injected = send("labelled");
  EXPECT_EQ(injected["patchType"], "JSONPatch");
  auto skipped = send("unlabelled");
  EXPECT_EQ(skipped["allowed"], true);
  EXPECT_FALSE(skipped.contains("patch"));
  EXPECT_EQ(child_->stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST_F(InjectorKubeTest, NativeSidecarsWhenTheServerSays130) {
  fake_->state().setServerVersion("v1.30.2");
  start({});
  EXPECT_THAT(log(), HasSubstr("Kubernetes server version v1.30.2 (GET /version)"));
  EXPECT_THAT(log(), HasSubstr("native sidecars: yes"));
  EXPECT_TRUE(proxyIsNativeSidecar(mutate("apps")));
  EXPECT_EQ(fake_->state().requestCount("GET", "/version"), 1u);
}

TEST_F(InjectorKubeTest, FirstContainerWhenTheServerIsTheRecorded126) {
  start({});
  EXPECT_THAT(log(), HasSubstr("Kubernetes server version v1.26.1"));
  EXPECT_THAT(log(), HasSubstr("native sidecars: no"));
  auto response = mutate("apps");
  EXPECT_EQ(response["patchType"], "JSONPatch");
  EXPECT_FALSE(proxyIsNativeSidecar(response));
}

TEST_F(InjectorKubeTest, FlagOverridesTheServerVersion) {
  fake_->state().setServerVersion("v1.30.2");
  start({"--kube-version", "v1.27.3"});
  EXPECT_THAT(log(), HasSubstr("native sidecars: no"));
  EXPECT_FALSE(proxyIsNativeSidecar(mutate("apps")));
  EXPECT_EQ(fake_->state().requestCount("GET", "/version"), 0u);
}

TEST_F(InjectorKubeTest, RetriesVersionUntilTheServerAnswers) {
  fake_->state().setServerVersion("v1.29.0");
  fake_->state().injectError("/version", 503, 2);
  start({});
  EXPECT_THAT(log(), HasSubstr("GET /version failed (attempt 2)"));
  EXPECT_THAT(log(), HasSubstr("native sidecars: yes"));
  EXPECT_EQ(fake_->state().requestCount("GET", "/version"), 3u);
}

TEST_F(InjectorKubeTest, UnreachableServerFallsBackToFirstContainerAndServes) {
  // A port nobody listens on: bound, then closed.
  std::uint16_t dead = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    dead = a.local_endpoint().port();
  }
  writeKubeconfig("https://127.0.0.1:" + std::to_string(dead));
  auto started = std::chrono::steady_clock::now();
  start({"--kube-version-wait", "1500ms"}, std::chrono::seconds(10), false);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1400));
  EXPECT_THAT(log(), HasSubstr("could not learn the Kubernetes server version"));
  EXPECT_THAT(log(), HasSubstr("native sidecars: no"));
  TestClient client(port_, true);
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_EQ(child_->stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST(InjectorFlagsTest, RefusesMissingCertificateAndBadVersion) {
  auto r = testing::runProcess({WEFT_INJECTOR_BIN, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_THAT(r.err, HasSubstr("--tls-cert"));
  r = testing::runProcess({WEFT_INJECTOR_BIN, "--listen", "127.0.0.1:0", "--tls-cert",
                           "/nonexistent.crt", "--tls-key", "/nonexistent.key"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.crt"));
  r = testing::runProcess(
      {WEFT_INJECTOR_BIN, "--tls-cert", "a", "--tls-key", "b", "--kube-version", "banana"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.err, HasSubstr("--kube-version"));
  r = testing::runProcess(
      {WEFT_INJECTOR_BIN, "--tls-cert", "a", "--tls-key", "b", "--kube-version-wait", "soon"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.err, HasSubstr("--kube-version-wait"));
  for (const char* bad : {"0s", "often"}) {
    r = testing::runProcess(
        {WEFT_INJECTOR_BIN, "--tls-cert", "a", "--tls-key", "b", "--trust-bundle-refresh", bad});
    EXPECT_EQ(r.exitCode, 1) << bad;
    EXPECT_THAT(r.err, HasSubstr("--trust-bundle-refresh")) << bad;
  }
}

}  // namespace
}  // namespace weft
