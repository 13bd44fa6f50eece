// weft-operator --source kube against the fake kube-apiserver (HTTPS, token
// auth, kubeconfig file): discovery follows EndpointSlice updates made through
// the API, and status and Events are written back to it; two replicas elect
// one writer with a Lease; Programmed counts real discovery streams;
// opted-in pods without the proxy get a NotMeshed Event.
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
    auto text = readFile(logPath_.string());
    return text.ok() ? *text : "";
  }
  void create(const kube::Resource& r, const Json& obj) {
    auto res = api_->create(r, obj["metadata"].value("namespace", ""), obj);
    ASSERT_TRUE(res.ok()) << res.error().describe();
  }
  // One weft-operator process with its ports, its log and its lease identity.
  struct Replica {
    std::string identity;
    fs::path logPath;
    std::unique_ptr<weft::testing::Child> child;
    std::uint16_t discoveryPort = 0;
    std::uint16_t adminPort = 0;

    std::string log() const {
      auto text = readFile(logPath.string());
      return text.ok() ? *text : "";
    }
    // A sample of /metrics (-1 when absent or unreachable).
    long long metric(const std::string& name) const {
      auto answer = httpGet(adminPort, "/metrics");
      std::smatch m;
      if (answer.status == 200 &&
          std::regex_search(answer.body, m, std::regex("(^|\\n)" + name + " (\\d+)"))) {
        return std::stoll(m[2]);
      }
      return -1;
    }
  };

  std::unique_ptr<Replica> startReplica(const std::string& identity,
                                        std::vector<std::string> extra = {}) {
    auto r = std::make_unique<Replica>();
    r->identity = identity;
    r->logPath = dir_ / ("operator-" + identity + ".log");
    std::vector<std::string> argv{WEFT_OPERATOR_BIN, "--source", "kube", "--kubeconfig",
                                  (dir_ / "kubeconfig").string(), "--discovery-listen",
                                  "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                  "--leader-identity", identity,
                                  // Streams without a workload certificate; client
                                  // authentication is tested in identity_process_test.
                                  "--discovery-client-auth", "optional"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    r->child = std::make_unique<weft::testing::Child>(argv, r->logPath.string());
    static const std::regex kDiscovery(R"(discovery API listening on .* \(port (\d+)\))");
    static const std::regex kAdmin(R"(admin API listening on .* \(port (\d+)\))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline && !ready) {
      std::string text = r->log();
      std::smatch m;
      if (std::regex_search(text, m, kDiscovery)) {
        r->discoveryPort = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      if (std::regex_search(text, m, kAdmin)) {
        r->adminPort = static_cast<std::uint16_t>(std::stoi(m[1]));
      }
      EXPECT_TRUE(r->child->running()) << "operator exited:\n" << text;
      if (!r->child->running()) {
        return r;
      }
      ready = r->adminPort != 0 && httpGet(r->adminPort, "/readyz").status == 200;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the process
    }
    EXPECT_TRUE(ready) << r->log();
    return r;
  }
  void start() {
    auto r = startReplica("op-0");
    discoveryPort_ = r->discoveryPort;
    adminPort_ = r->adminPort;
    logPath_ = r->logPath;
    child_ = std::move(r->child);
  }
  // Polls the API server (the operator writes from its own threads) until `done` or `limit`.
  template <typename F>
  bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }
  // The condition `type` of a TrafficPolicy (null when absent).
  Json condition(const std::string& name, const std::string& type) {
    auto tp = api_->get(kube::resources::trafficPolicies(), "demo", name);
    if (!tp.ok()) {
      return Json();
    }
    for (const Json& c : (*tp).value("status", Json::object()).value("conditions", Json::array())) {
      if (c.value("type", "") == type) {
        return c;
      }
    }
    return Json();
  }
  // Events with `reason` about the object named `name`.
  std::vector<Json> eventsFor(const std::string& ns, const std::string& name,
                              const std::string& reason) {
    std::vector<Json> out;
    auto events = api_->list(kube::resources::events(), ns, {});
    if (events.ok()) {
      for (const Json& e : events->items) {
        if (e.value("reason", "") == reason && e["involvedObject"].value("name", "") == name) {
          out.push_back(e);
        }
      }
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::unique_ptr<kube::HttpKubeApi> api_;
  std::unique_ptr<weft::testing::Child> child_;
  fs::path logPath_;
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

const std::vector<std::string> kFastLease{"--lease-duration", "2s",   "--renew-deadline", "1500ms",
                                          "--retry-period",   "200ms"};

Json service() {
  return Json::parse(R"({"apiVersion":"v1","kind":"Service",
           "metadata":{"name":"backend","namespace":"demo"},
           "spec":{"clusterIP":"198.51.100.20","ports":[{"name":"http","port":8080}]}})");
}

Json trafficPolicy(const std::string& name, int attempts) {
  return Json{
      {"apiVersion", "weft.io/v1alpha1"},
      {"kind", "TrafficPolicy"},
      {"metadata", {{"name", name}, {"namespace", "demo"}}},
      {"spec", {{"targetRef", {{"name", "backend"}}}, {"retries", {{"attempts", attempts}}}}}};
}

TEST_F(OperatorKubeTest, OneOfTwoReplicasWritesStatusAndTheOtherTakesOver) {
  create(kube::resources::services(), service());
  create(kube::resources::endpointSlices(), slice({"192.0.2.11", "192.0.2.12"}));
  create(kube::resources::trafficPolicies(), trafficPolicy("broken", 0));
  auto a = startReplica("op-a", kFastLease);
  auto b = startReplica("op-b", kFastLease);
  ASSERT_FALSE(HasFatalFailure());

  // Both serve discovery from their own cache.
  for (const auto* r : {a.get(), b.get()}) {
    std::string error;
    auto c = StreamClient::open(
        r->discoveryPort, std::string("/v1/discovery/outbound?authority=") + kBackend, "", &error);
    ASSERT_TRUE(c) << error;
    auto line = c->nextLine(std::chrono::seconds(2));
    ASSERT_TRUE(line) << r->log();
    EXPECT_EQ(Json::parse(*line)["backends"][kBackend]["endpoints"].size(), 2u) << *line;
  }

  // Exactly one leads, holds the Lease and writes status.
  ASSERT_TRUE(eventually([&] {
    return a->metric("weft_operator_leader") + b->metric("weft_operator_leader") == 1;
  })) << a->log()
      << b->log();
  Replica* leader = a->metric("weft_operator_leader") == 1 ? a.get() : b.get();
  Replica* follower = leader == a.get() ? b.get() : a.get();
  auto lease = api_->get(kube::resources::leases(), "weft-system", "weft-operator");
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], leader->identity);
  ASSERT_TRUE(eventually([&] {
    return condition("broken", "Accepted").value("observedGeneration", 0) == 1;
  })) << leader->log();
  EXPECT_GT(leader->metric("weft_operator_status_writes_total"), 0);
  EXPECT_EQ(follower->metric("weft_operator_status_writes_total"), 0);
  EXPECT_EQ(follower->metric("weft_operator_events_total"), 0);
  EXPECT_EQ(eventsFor("demo", "broken", "Invalid").size(), 1u);

  // The leader dies without releasing the Lease: the follower takes over once it expires.
  auto killedAt = std::chrono::steady_clock::now();
  leader->child->stop(SIGKILL);
  ASSERT_TRUE(eventually([&] { return follower->metric("weft_operator_leader") == 1; },
                         std::chrono::seconds(4)))
      << follower->log();
  EXPECT_LT(std::chrono::steady_clock::now() - killedAt, std::chrono::milliseconds(2000 + 1000))
      << "lease duration plus a retry period and some slack";
  lease = api_->get(kube::resources::leases(), "weft-system", "weft-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], follower->identity);
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);

  // The new leader writes status for a new generation.
  auto current = api_->get(kube::resources::trafficPolicies(), "demo", "broken");
  ASSERT_TRUE(current.ok());
  Json next = *current;
  next["spec"]["retries"] = {{"attempts", 2}, {"retryOn", {"bogus"}}};  // a new problem
  ASSERT_TRUE(api_->update(kube::resources::trafficPolicies(), next).ok());
  ASSERT_TRUE(eventually([&] {
    return condition("broken", "Accepted").value("observedGeneration", 0) == 2;
  })) << follower->log();
  EXPECT_GT(follower->metric("weft_operator_status_writes_total"), 0);
  EXPECT_EQ(eventsFor("demo", "broken", "Invalid").size(), 2u)
      << "one per problem, not per replica";
  EXPECT_EQ(follower->child->stop(SIGTERM), 0) << follower->log();
  lease = api_->get(kube::resources::leases(), "weft-system", "weft-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "") << "released on shutdown";
}

TEST_F(OperatorKubeTest, ProgrammedCountsTheStreamsSentTheCurrentVersion) {
  create(kube::resources::services(), service());
  create(kube::resources::endpointSlices(), slice({"192.0.2.11"}));
  create(kube::resources::trafficPolicies(), trafficPolicy("p", 2));
  start();
  ASSERT_FALSE(HasFatalFailure());
  auto programmed = [&](const std::string& status, int generation, const std::string& counts) {
    return eventually([&] {
      Json c = condition("p", "Programmed");
      return c.value("status", "") == status && c.value("observedGeneration", 0) == generation &&
             c.value("message", "") ==
                 "current version delivered to " + counts + " subscribed proxy streams";
    });
  };
  EXPECT_TRUE(programmed("True", 1, "0 of 0")) << condition("p", "Programmed") << log();

  std::string error;
  auto first = StreamClient::open(
      discoveryPort_, std::string("/v1/discovery/outbound?authority=") + kBackend, "", &error);
  ASSERT_TRUE(first) << error;
  ASSERT_TRUE(first->nextLine(std::chrono::seconds(2)));
  EXPECT_TRUE(programmed("True", 1, "1 of 1")) << condition("p", "Programmed");
  // A stream by the ClusterIP counts for the same document.
  auto second = StreamClient::open(
      discoveryPort_, "/v1/discovery/outbound?authority=198.51.100.20:8080", "", &error);
  ASSERT_TRUE(second) << error;
  ASSERT_TRUE(second->nextLine(std::chrono::seconds(2)));
  EXPECT_TRUE(programmed("True", 1, "2 of 2")) << condition("p", "Programmed");

  // A new generation: both streams are sent the new version.
  auto current = api_->get(kube::resources::trafficPolicies(), "demo", "p");
  ASSERT_TRUE(current.ok());
  Json next = *current;
  next["spec"]["retries"]["attempts"] = 3;
  ASSERT_TRUE(api_->update(kube::resources::trafficPolicies(), next).ok());
  auto line = first->nextLine(std::chrono::seconds(2));
  ASSERT_TRUE(line);
  EXPECT_EQ(Json::parse(*line)["policy"]["retries"]["attempts"], 3) << *line;
  EXPECT_TRUE(programmed("True", 2, "2 of 2")) << condition("p", "Programmed");

  second.reset();
  EXPECT_TRUE(programmed("True", 2, "1 of 1")) << condition("p", "Programmed");
  EXPECT_EQ(condition("p", "Accepted").value("status", ""), "True");
}

TEST_F(OperatorKubeTest, OptedInPodWithoutTheProxyGetsANotMeshedEvent) {
  create(kube::resources::namespaces(), Json::parse(R"({"apiVersion":"v1","kind":"Namespace",
           "metadata":{"name":"shop","labels":{"weft.io/inject":"enabled"}}})"));
  auto pod = [](const std::string& ns, const std::string& name, Json annotations, Json containers) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"namespace", ns}, {"annotations", annotations}}},
                {"spec", {{"containers", containers}}}};
  };
  const Json app = Json::array({{{"name", "app"}, {"image", "app"}}});
  const Json meshed = Json::array(
      {{{"name", "weft-proxy"}, {"image", "weft"}}, {{"name", "app"}, {"image", "app"}}});
  create(kube::resources::pods(), pod("shop", "unmeshed", Json::object(), app));
  create(kube::resources::pods(), pod("shop", "meshed", Json::object(), meshed));
  create(kube::resources::pods(), pod("shop", "opted-out", {{"weft.io/inject", "disabled"}}, app));
  create(kube::resources::pods(), pod("kube-system", "dns", {{"weft.io/inject", "enabled"}}, app));
  create(kube::resources::pods(), pod("demo", "annotated", {{"weft.io/inject", "enabled"}}, app));
  start();
  ASSERT_FALSE(HasFatalFailure());

  ASSERT_TRUE(eventually([&] {
    return eventsFor("shop", "unmeshed", "NotMeshed").size() == 1 &&
           eventsFor("demo", "annotated", "NotMeshed").size() == 1;
  })) << log();
  Json e = eventsFor("shop", "unmeshed", "NotMeshed")[0];
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["involvedObject"]["kind"], "Pod");
  EXPECT_NE(e.value("message", "").find("restart the workload"), std::string::npos) << e;
  EXPECT_TRUE(eventsFor("shop", "meshed", "NotMeshed").empty());
  EXPECT_TRUE(eventsFor("shop", "opted-out", "NotMeshed").empty());
  EXPECT_TRUE(eventsFor("kube-system", "dns", "NotMeshed").empty());
  auto metrics = httpGet(adminPort_, "/metrics");
  EXPECT_NE(metrics.body.find("weft_operator_unmeshed_pods 2"), std::string::npos) << metrics.body;
}

}  // namespace
}  // namespace weft::op
