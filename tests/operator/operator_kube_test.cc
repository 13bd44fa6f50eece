// weft-operator --source kube against the fake kube-apiserver (HTTPS, token
// auth, kubeconfig file): discovery follows EndpointSlice updates made through
// the API, and status and Events are written back to it.
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
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"
#include "tests/operator/stream_client.h"
#include "tests/support/process.h"

namespace weft::op {
namespace {

namespace fs = std::filesystem;
using json::Json;
using op::testing::httpGet;
using op::testing::StreamClient;

constexpr const char* kBackend = "backend.demo.svc.cluster.local:8080";

Json slice(const std::vector<std::string>& ips) {
  Json eps = Json::array();
  for (const auto& ip : ips) {
    eps.push_back({{"addresses", {ip}}, {"conditions", {{"ready", true}}}});
  }
  return Json{{"apiVersion", "discovery.k8s.io/v1"},
              {"kind", "EndpointSlice"},
              {"metadata",
               {{"name", "backend-a"},
                {"namespace", "demo"},
                {"labels", {{"kubernetes.io/service-name", "backend"}}}}},
              {"addressType", "IPv4"},
              {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
              {"endpoints", eps}};
}

class OperatorKubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft-operator-kube-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto pki = weft::testing::makeTestPki();
    ASSERT_TRUE(pki.ok()) << pki.error().describe();
    weft::testing::FakeApiServerOptions options;
    options.certPem = pki->serverCertPem;
    options.keyPem = pki->serverKeyPem;
    options.bookmarkInterval = std::chrono::milliseconds(200);
    auto server = weft::testing::FakeApiServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    server_->state().setRequiredToken("operator-token");
    ASSERT_TRUE(writeFileAtomic((dir_ / "ca.crt").string(), pki->caCertPem).ok());
    ASSERT_TRUE(writeFileAtomic((dir_ / "kubeconfig").string(),
                                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  "
                                "cluster:\n    server: " +
                                    server_->url() +
                                    "\n    certificate-authority: " + (dir_ / "ca.crt").string() +
                                    "\nusers:\n- name: op\n  user:\n    token: operator-token\n"
                                    "contexts:\n- name: fake\n  context: {cluster: fake, user: "
                                    "op}\ncurrent-context: fake\n")
                    .ok());
    kube::KubeConfig config;
    config.server = server_->url();
    config.caPem = pki->caCertPem;
    config.token = "operator-token";
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok()) << api.error().describe();
    api_ = std::move(*api);
  }
  void TearDown() override {
    if (child_) {
      EXPECT_EQ(child_->stop(SIGTERM), 0) << log();
    }
    fs::remove_all(dir_);
  }
  std::string log() {
    auto text = readFile((dir_ / "operator.log").string());
    return text.ok() ? *text : "";
  }
  void create(const kube::Resource& r, const Json& obj) {
    auto res = api_->create(r, obj["metadata"].value("namespace", ""), obj);
    ASSERT_TRUE(res.ok()) << res.error().describe();
  }
  void start() {
    child_ = std::make_unique<weft::testing::Child>(
        std::vector<std::string>{WEFT_OPERATOR_BIN, "--source", "kube", "--kubeconfig",
                                 (dir_ / "kubeconfig").string(), "--discovery-listen",
                                 "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
        (dir_ / "operator.log").string());
    static const std::regex kDiscovery(R"(discovery API listening on .* \(port (\d+)\))");
    static const std::regex kAdmin(R"(admin API listening on .* \(port (\d+)\))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline && !ready) {
      std::string text = log();
      std::smatch m;
      if (std::regex_search(text, m, kDiscovery)) {
        discoveryPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      if (std::regex_search(text, m, kAdmin)) {
        adminPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      ASSERT_TRUE(child_->running()) << "operator exited:\n" << text;
      ready = adminPort_ != 0 && httpGet(adminPort_, "/readyz").status == 200;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the process
    }
    ASSERT_TRUE(ready) << log();
  }

  fs::path dir_;
  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::unique_ptr<kube::HttpKubeApi> api_;
  std::unique_ptr<weft::testing::Child> child_;
  std::uint16_t discoveryPort_ = 0;
  std::uint16_t adminPort_ = 0;
};

TEST_F(OperatorKubeTest, DiscoveryAndStatusThroughTheApiServer) {
  create(kube::resources::services(), Json::parse(R"({"apiVersion":"v1","kind":"Service",
           "metadata":{"name":"backend","namespace":"demo"},
           "spec":{"clusterIP":"198.51.100.20","ports":[{"name":"http","port":8080}]}})"));
  create(kube::resources::endpointSlices(), slice({"192.0.2.11", "192.0.2.12"}));
  create(kube::resources::trafficPolicies(),
         Json::parse(R"({"apiVersion":"weft.io/v1alpha1","kind":"TrafficPolicy",
           "metadata":{"name":"broken","namespace":"demo"},
           "spec":{"targetRef":{"name":"backend"},"retries":{"attempts":0}}})"));
  start();

  std::string error;
  auto c = StreamClient::open(
      discoveryPort_, std::string("/v1/discovery/outbound?authority=") + kBackend, "", &error);
  ASSERT_TRUE(c) << error;
  auto line = c->nextLine(std::chrono::seconds(2));
  ASSERT_TRUE(line) << log();
  Json first = Json::parse(*line);
  EXPECT_EQ(first["backends"][kBackend]["endpoints"].size(), 2u) << *line;

  // An update through the API reaches the stream within a second.
  auto current = api_->get(kube::resources::endpointSlices(), "demo", "backend-a");
  ASSERT_TRUE(current.ok());
  Json next = slice({"192.0.2.11"});
  next["metadata"]["resourceVersion"] = (*current)["metadata"]["resourceVersion"];
  ASSERT_TRUE(api_->update(kube::resources::endpointSlices(), next).ok());
  line = c->nextLine(std::chrono::seconds(1));
  ASSERT_TRUE(line) << "no update within 1 s\n" << log();
  EXPECT_EQ(Json::parse(*line)["backends"][kBackend]["endpoints"].size(), 1u) << *line;

  // Status and an Event land on the API server.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Json conditions;
  while (std::chrono::steady_clock::now() < deadline) {
    auto tp = api_->get(kube::resources::trafficPolicies(), "demo", "broken");
    ASSERT_TRUE(tp.ok());
    if (tp->contains("status") && (*tp)["status"].contains("conditions")) {
      conditions = (*tp)["status"]["conditions"];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the API server
  }
  ASSERT_FALSE(conditions.is_null()) << log();
  EXPECT_EQ(conditions[0]["type"], "Accepted");
  EXPECT_EQ(conditions[0]["status"], "False");
  EXPECT_EQ(conditions[0]["reason"], "Invalid");
  EXPECT_EQ(conditions[0]["observedGeneration"], 1);
  auto events = api_->list(kube::resources::events(), "demo", {});
  ASSERT_TRUE(events.ok());
  bool sawEvent = false;
  for (const Json& e : events->items) {
    sawEvent =
        sawEvent || (e.value("reason", "") == "Invalid" && e["involvedObject"]["name"] == "broken");
  }
  EXPECT_TRUE(sawEvent);
  auto metrics = httpGet(adminPort_, "/metrics");
  EXPECT_NE(metrics.body.find("weft_operator_ready 1"), std::string::npos);
}

}  // namespace
}  // namespace weft::op
