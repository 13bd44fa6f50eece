// weft-operator end to end in local mode: the real binary on a temporary
// folder, a discovery client over TLS (certificate made here, given by flags)
// and the admin API, all on loopback.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/file.h"
#include "common/json/json.h"
#include "operator/src/discovery/tls.h"
#include "tests/operator/stream_client.h"
#include "tests/support/process.h"

namespace weft::op {
namespace {

namespace fs = std::filesystem;
using json::Json;
using op::testing::httpGet;
using op::testing::StreamClient;

constexpr const char* kBackend = "backend.demo.svc.cluster.local:8080";

std::string sliceYaml(const std::vector<std::string>& ips) {
  std::string s = R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-a
  namespace: demo
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
)";
  for (const auto& ip : ips) {
    s += "  - addresses: [" + ip + "]\n    conditions: {ready: true}\n";
  }
  return s;
}

constexpr const char* kService = R"(apiVersion: v1
kind: Service
metadata: {name: backend, namespace: demo}
spec:
  clusterIP: 198.51.100.20
  selector: {app: backend}
  ports: [{name: http, port: 8080, targetPort: 8080}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: backend, namespace: demo}
spec:
  targetRef: {name: backend}
  timeouts: {request: 3s}
)";

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("weft-operator-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "manifests");
    auto cert = discovery::makeSelfSigned({"localhost"}, {"127.0.0.1"});
    ASSERT_TRUE(cert.ok()) << cert.error().message;
    caPem_ = cert->certPem;
    ASSERT_TRUE(writeFileAtomic((dir_ / "tls.crt").string(), cert->certPem).ok());
    ASSERT_TRUE(writeFileAtomic((dir_ / "tls.key").string(), cert->keyPem).ok());
    write("service.yaml", kService);
    write("slice.yaml", sliceYaml({"192.0.2.11", "192.0.2.12", "192.0.2.13"}));
  }
  void TearDown() override {
    if (child_) {
      EXPECT_EQ(child_->stop(SIGTERM), 0) << "clean exit on SIGTERM\n" << log();
    }
    fs::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(writeFileAtomic((dir_ / "manifests" / name).string(), text).ok());
  }
  std::string log() {
    auto text = readFile((dir_ / "operator.log").string());
    return text.ok() ? *text : "";
  }
  // Starts the operator and reads the ports it bound from its log.
  void start() {
    child_ = std::make_unique<weft::testing::Child>(
        std::vector<std::string>{
            WEFT_OPERATOR_BIN, "--source", "dir:" + (dir_ / "manifests").string(),
            "--discovery-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--tls-cert",
            (dir_ / "tls.crt").string(), "--tls-key", (dir_ / "tls.key").string(),
            // Streams without a workload certificate; identity_process_test
            // covers the default (require).
            "--discovery-client-auth", "optional"},
        (dir_ / "operator.log").string());
    static const std::regex kDiscovery(R"(discovery API listening on .* \(port (\d+)\))");
    static const std::regex kAdmin(R"(admin API listening on .* \(port (\d+)\))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           (discoveryPort_ == 0 || adminPort_ == 0)) {
      std::string text = log();
      std::smatch m;
      if (std::regex_search(text, m, kDiscovery)) {
        discoveryPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      if (std::regex_search(text, m, kAdmin)) {
        adminPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      ASSERT_TRUE(child_->running()) << "operator exited:\n" << text;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a log file
    }
    ASSERT_NE(discoveryPort_, 0) << log();
    ASSERT_NE(adminPort_, 0) << log();
    // Ready once the folder is read and reconciled.
    while (std::chrono::steady_clock::now() < deadline) {
      if (httpGet(adminPort_, "/readyz").status == 200) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "not ready\n" << log();
  }
  Json next(StreamClient& c, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    auto line = c.nextLine(timeout);
    if (!line) {
      return nullptr;
    }
    auto j = json::parse(*line);
    EXPECT_TRUE(j.ok()) << *line;
    return j.ok() ? *j : Json();
  }
  static std::vector<std::string> addresses(const Json& doc) {
    std::vector<std::string> out;
    for (const Json& e : doc["backends"][kBackend]["endpoints"]) {
      out.push_back(e["address"]);
    }
    return out;
  }

  fs::path dir_;
  std::string caPem_;
  std::unique_ptr<weft::testing::Child> child_;
  std::uint16_t discoveryPort_ = 0;
  std::uint16_t adminPort_ = 0;
};

TEST_F(OperatorTest, StreamFollowsTheEndpointSliceFile) {
  start();
  std::string error;
  auto c = StreamClient::open(
      discoveryPort_, std::string("/v1/discovery/outbound?authority=") + kBackend, caPem_, &error);
  ASSERT_TRUE(c) << error;
  ASSERT_EQ(c->status(), 200);
  Json first = next(*c);
  ASSERT_FALSE(first.is_null()) << log();
  EXPECT_EQ(addresses(first),
            (std::vector<std::string>{"192.0.2.11:8080", "192.0.2.12:8080", "192.0.2.13:8080"}));
  EXPECT_EQ(first["policy"]["timeouts"]["request"], "3s");

  // Remove an endpoint from the file: the update arrives within a second.
  auto start = std::chrono::steady_clock::now();
  write("slice.yaml", sliceYaml({"192.0.2.11", "192.0.2.13"}));
  Json second = next(*c, std::chrono::seconds(1));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second.is_null()) << "no update within 1 s\n" << log();
  EXPECT_EQ(addresses(second), (std::vector<std::string>{"192.0.2.11:8080", "192.0.2.13:8080"}));
  EXPECT_NE(second["version"], first["version"]);
  EXPECT_LT(took, std::chrono::seconds(1));

  // A broken file keeps what it said before; the stream sees nothing new.
  write("slice.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: [\n");
  EXPECT_TRUE(next(*c, std::chrono::milliseconds(400)).is_null());
  auto status = httpGet(adminPort_, "/status");
  ASSERT_EQ(status.status, 200);
  auto body = json::parse(status.body);
  ASSERT_TRUE(body.ok());
  ASSERT_EQ((*body)["sourceProblems"].size(), 1u) << status.body;
  EXPECT_NE((*body)["sourceProblems"][0].get<std::string>().find("slice.yaml"), std::string::npos);

  // A ClusterIP subscriber sees the same document.
  auto byIp = StreamClient::open(
      discoveryPort_, "/v1/discovery/outbound?authority=198.51.100.20:8080", caPem_, &error);
  ASSERT_TRUE(byIp) << error;
  Json viaIp = next(*byIp);
  EXPECT_EQ(viaIp["version"], second["version"]);
}

TEST_F(OperatorTest, AdminApiReportsStatusAndMetrics) {
  write("bad-policy.yaml", R"(apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: broken, namespace: demo}
spec:
  targetRef: {name: backend}
  retries: {attempts: 0}
)");
  start();
  EXPECT_EQ(httpGet(adminPort_, "/healthz").status, 200);
  auto status = httpGet(adminPort_, "/status");
  ASSERT_EQ(status.status, 200);
  auto body = json::parse(status.body);
  ASSERT_TRUE(body.ok()) << status.body;
  bool sawBroken = false;
  for (const Json& r : (*body)["resources"]) {
    if (r["name"] == "broken") {
      sawBroken = true;
      EXPECT_EQ(r["status"]["conditions"][0]["reason"], "Invalid");
      EXPECT_EQ(r["status"]["conditions"][0]["status"], "False");
    }
  }
  EXPECT_TRUE(sawBroken) << status.body;
  ASSERT_GE((*body)["events"].size(), 1u);
  EXPECT_EQ((*body)["events"][0]["type"], "Warning");

  std::string error;
  auto c =
      StreamClient::open(discoveryPort_, "/v1/discovery/inbound?pod=demo/nobody", caPem_, &error);
  ASSERT_TRUE(c) << error;
  ASSERT_FALSE(next(*c).is_null());
  auto metrics = httpGet(adminPort_, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* m : {"weft_operator_reconciles_total{result=\"ok\"}",
                        "weft_operator_reconcile_duration_seconds_bucket",
                        "weft_operator_discovery_streams 1", "weft_operator_queue_depth",
                        "weft_operator_push_latency_seconds", "weft_operator_ready 1"}) {
    EXPECT_NE(metrics.body.find(m), std::string::npos) << m << "\n" << metrics.body;
  }
  EXPECT_EQ(httpGet(adminPort_, "/nope").status, 404);
}

TEST_F(OperatorTest, BadFlagsExitWithOneLine) {
  auto r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:/nonexistent/weft"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
  r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(),
                                 "--tls-cert", (dir_ / "tls.crt").string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--tls-cert and --tls-key go together"), std::string::npos) << r.err;
  r = weft::testing::runProcess(
      {WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(), "--discovery-listen", "nowhere"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--discovery-listen"), std::string::npos) << r.err;
  r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(),
                                 "--discovery-client-auth", "sometimes"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--discovery-client-auth: expected 'require' or 'optional'"),
            std::string::npos)
      << r.err;
  r = weft::testing::runProcess(
      {WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(), "--certificate-lifetime", "500ms"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--certificate-lifetime: must be at least 2s"), std::string::npos) << r.err;
  r = weft::testing::runProcess(
      {WEFT_OPERATOR_BIN, "--source", "kube", "--certificate-lifetime", "1m"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("only with --source dir:"), std::string::npos) << r.err;
  // The discovery certificate the mesh issuer signs.
  r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(),
                                 "--discovery-dns-name", "Control.Example"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--discovery-dns-name: 'Control.Example' is not a lower-case DNS name"),
            std::string::npos)
      << r.err;
  r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(),
                                 "--discovery-certificate-lifetime", "1s"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--discovery-certificate-lifetime: must be at least 5s"), std::string::npos)
      << r.err;
  r = weft::testing::runProcess({WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.string(),
                                 "--tls-cert", "a", "--tls-key", "b", "--discovery-dns-name",
                                 "control.example"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--discovery-dns-name: not with --tls-cert"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace weft::op
