// Tests for the discovery client against a real HTTPS stream server on loopback.
#include "proxy/src/discovery/client.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/proxy/discovery/fake_discovery_server.h"

namespace weft::proxy::discovery {
namespace {

using namespace std::chrono_literals;
using testing::FakeDiscoveryServer;
using testing::TestCert;

const std::string kBackendTarget = "/v1/discovery/outbound?authority=backend.demo:8080";

std::string outbound(const std::string& version, const std::string& endpoint) {
  return R"({"kind":"Outbound","version":")" + version +
         R"(","authority":"backend.demo:8080","backends":{"backend.demo:8080":{"endpoints":[{"address":")" +
         endpoint + R"("}]}}})" + "\n";
}

// Collects published snapshots and lets the test wait for one that satisfies a condition.
class Snapshots {
 public:
  void push(config::SnapshotPtr s) {
    {
      std::lock_guard lock(mu_);
      last_ = std::move(s);
    }
    cv_.notify_all();
  }
  template <typename Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return last_ && pred(*last_); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  config::SnapshotPtr last_;
};

// Bounded wait for a counter that has no notification of its own.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

std::string endpointOf(const config::Snapshot& s) {
  const api::Outbound* o = s.findOutbound("backend.demo:8080");
  return o ? o->backends.at("backend.demo:8080").endpoints.at(0).address : "";
}

class DiscoveryClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> makeClient(const std::string& caPem,
                                     std::optional<std::string> pod = std::nullopt,
                                     const std::string& serverName = "localhost",
                                     std::size_t maxLineBytes = 4u << 20) {
    auto trust = ControlPlaneTrust::create(caPem, ControlPlaneTrust::Mode::kFixed);
    EXPECT_TRUE(trust) << trust.error().message;
    return trust ? makeClient(*trust, std::move(pod), serverName, maxLineBytes) : nullptr;
  }
  std::unique_ptr<Client> makeClient(std::shared_ptr<ControlPlaneTrust> trust,
                                     std::optional<std::string> pod = std::nullopt,
                                     const std::string& serverName = "localhost",
                                     std::size_t maxLineBytes = 4u << 20) {
    ClientOptions options;
    options.host = "127.0.0.1";
    options.port = server_.port();
    options.serverName = serverName;
    options.trust = std::move(trust);
    options.pod = std::move(pod);
    options.backoffBase = 5ms;
    options.backoffMax = 40ms;
    options.connectTimeout = 2s;
    options.maxLineBytes = maxLineBytes;
    auto client =
        Client::create(options, [this](config::SnapshotPtr s) { snapshots_.push(std::move(s)); });
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(client).value() : nullptr;
  }

  TestCert cert_ = testing::makeSelfSignedCert();
  FakeDiscoveryServer server_{cert_};
  Snapshots snapshots_;
};

TEST_F(DiscoveryClientTest, StreamsDocumentsAndKeepsTheLastGoodOneAcrossReconnects) {
  auto client = makeClient(cert_.certPem);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->current()->findOutbound("backend.demo:8080"), nullptr);
  client->subscribe("Backend.Demo:8080");
  client->subscribe("backend.demo:8080");  // the same subscription
  client->start();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 1));

  ASSERT_EQ(server_.send(kBackendTarget, outbound("1", "192.0.2.1:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.1:80"; }));

  // A line split across writes, then garbage and an invalid document: each refused, each
  // followed by a good one that must still apply.
  const std::string v2 = outbound("2", "192.0.2.2:80");
  ASSERT_EQ(server_.send(kBackendTarget, v2.substr(0, 20)), 1);
  ASSERT_EQ(server_.send(kBackendTarget, v2.substr(20) + "{not json\n"), 1);
  ASSERT_EQ(
      server_.send(
          kBackendTarget,
          R"({"kind":"Outbound","authority":"backend.demo:8080","policy":{"retries":{"attempts":0}}})"
          "\n" +
              outbound("3", "192.0.2.3:80")),
      1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.3:80"; }));
  EXPECT_EQ(client->stats().rejected, 2u);
  EXPECT_EQ(client->stats().documents, 3u);

  // The control plane goes away: the configuration stays, the client comes back by itself.
  server_.dropAll();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 2));
  EXPECT_EQ(endpointOf(*client->current()), "192.0.2.3:80");
  EXPECT_GE(client->stats().failures, 1u);
  ASSERT_EQ(server_.send(kBackendTarget, outbound("4", "192.0.2.4:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.4:80"; }));
  EXPECT_EQ(client->stats().connects, 2u);
  EXPECT_EQ(server_.requests(kBackendTarget), 2);  // one stream per authority, not two
  client->stop();
}

TEST_F(DiscoveryClientTest, SubscribesToThePodsInbound) {
  auto client = makeClient(cert_.certPem, "demo/web-0");
  ASSERT_TRUE(client);
  client->start();
  const std::string target = "/v1/discovery/inbound?pod=demo/web-0";
  ASSERT_TRUE(server_.waitForRequests(target, 1));
  ASSERT_EQ(
      server_.send(
          target,
          R"({"kind":"Inbound","version":"1","pod":"demo/web-0","mtls":"STRICT","ports":[{"port":8080}]})"
          "\n"),
      1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return s.inbound() != nullptr; }));
  EXPECT_EQ(client->current()->inbound()->mtls, api::MtlsMode::kStrict);
  ASSERT_NE(client->current()->findInboundPort(8080), nullptr);
}

TEST_F(DiscoveryClientTest, RetriesWithBackoffWhileTheServerRefuses) {
  server_.setStatus(503);
  auto client = makeClient(cert_.certPem);
  ASSERT_TRUE(client);
  client->subscribe("backend.demo:8080");
  client->start();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 3));
  EXPECT_EQ(client->stats().connects, 0u);
  EXPECT_TRUE(eventually([&] { return client->stats().failures >= 3; }));
  server_.setStatus(200);
  const int before = server_.requests(kBackendTarget);
  ASSERT_TRUE(eventually([&] { return client->stats().connects == 1; }));
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, before + 1));
  ASSERT_EQ(server_.send(kBackendTarget, outbound("1", "192.0.2.9:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.9:80"; }));
}

TEST_F(DiscoveryClientTest, RefusesAServerItCannotVerify) {
  const TestCert other = testing::makeSelfSignedCert("someone-else");
  std::vector<std::unique_ptr<Client>> clients;
  clients.push_back(makeClient(other.certPem));  // signed by someone else
  clients.push_back(makeClient(cert_.certPem, std::nullopt, "weft-control.weft.svc"));  // name
  for (auto& client : clients) {
    ASSERT_TRUE(client);
    client->subscribe("backend.demo:8080");
    client->start();
    EXPECT_TRUE(eventually([&] { return client->stats().failures >= 2; }));
    EXPECT_EQ(client->stats().connects, 0u);
    EXPECT_EQ(client->current()->outbounds().size(), 0u);
    client->stop();
  }
  EXPECT_EQ(server_.requests(kBackendTarget), 0);
}

TEST_F(DiscoveryClientTest, CutsAStreamWhoseDocumentNeverEnds) {
  auto client = makeClient(cert_.certPem, std::nullopt, "localhost", 4096);
  ASSERT_TRUE(client);
  client->subscribe("backend.demo:8080");
  client->start();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 1));
  ASSERT_EQ(server_.send(kBackendTarget, outbound("1", "192.0.2.1:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.1:80"; }));
  // 8 KiB without a newline: more than one document may be; the client hangs up and returns.
  ASSERT_EQ(server_.send(kBackendTarget, std::string(8192, ' ')), 1);
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 2));
  EXPECT_GE(client->stats().failures, 1u);
  EXPECT_EQ(endpointOf(*client->current()), "192.0.2.1:80");
}

TEST_F(DiscoveryClientTest, UnsubscribeEndsTheStreamAndForgetsTheDocument) {
  auto client = makeClient(cert_.certPem);
  ASSERT_TRUE(client);
  client->subscribe("backend.demo:8080");
  client->start();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 1));
  ASSERT_EQ(server_.send(kBackendTarget, outbound("1", "192.0.2.1:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.1:80"; }));

  client->unsubscribe("backend.demo:8080");
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return s.outbounds().empty(); }));
  // The server's next write finds the connection closed by the client.
  EXPECT_TRUE(eventually([&] { return server_.send(kBackendTarget, "\n") == 0; }));
  const auto failures = client->stats().failures;

  client->subscribe("backend.demo:8080");
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 2));
  ASSERT_EQ(server_.send(kBackendTarget, outbound("2", "192.0.2.2:80")), 1);
  ASSERT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.2:80"; }));
  EXPECT_EQ(client->stats().failures, failures);  // leaving on purpose is not a failure
}

TEST_F(DiscoveryClientTest, UnsubscribeDuringBackoffStopsRetrying) {
  server_.setStatus(503);
  auto client = makeClient(cert_.certPem);
  ASSERT_TRUE(client);
  client->subscribe("backend.demo:8080");
  client->start();
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 2));
  client->unsubscribe("backend.demo:8080");
  // Once unsubscribed, the count stops moving: wait for two quiet backoff periods in a row.
  int last = -1;
  ASSERT_TRUE(eventually([&] {
    const int now = server_.requests(kBackendTarget);
    const bool quiet = now == last;
    last = now;
    std::this_thread::sleep_for(100ms);
    return quiet && server_.requests(kBackendTarget) == now;
  }));
}

// A mesh workload certificate names its SPIFFE ID only; even with the control
// plane's name as its common name it must not pass for the control plane.
TEST(DiscoveryClientNameTest, NeverTrustsTheCommonName) {
  const TestCert workload =
      testing::makeSelfSignedCert("localhost", "URI:spiffe://cluster.local/ns/demo/sa/web");
  FakeDiscoveryServer server(workload);
  auto trust = ControlPlaneTrust::create(workload.certPem, ControlPlaneTrust::Mode::kFollowMesh);
  ASSERT_TRUE(trust);
  ClientOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.serverName = "localhost";
  options.trust = *trust;
  options.backoffBase = 5ms;
  options.backoffMax = 40ms;
  auto client = Client::create(options, [](config::SnapshotPtr) {});
  ASSERT_TRUE(client);
  (*client)->subscribe("backend.demo:8080");
  (*client)->start();
  EXPECT_TRUE(eventually([&] { return (*client)->stats().failures >= 2; }));
  EXPECT_EQ((*client)->stats().connects, 0u);
  EXPECT_EQ(server.requests(kBackendTarget), 0);
  (*client)->stop();
}

// With trust anchors, a newer bundle from the control plane replaces them:
// after a rotation the client verifies the new chain without a restart.
TEST_F(DiscoveryClientTest, FollowsANewerTrustBundleFromTheControlPlane) {
  const TestCert stale = testing::makeSelfSignedCert("retired-root");
  auto trust = ControlPlaneTrust::create(stale.certPem, ControlPlaneTrust::Mode::kFollowMesh);
  ASSERT_TRUE(trust) << trust.error().message;
  auto client = makeClient(*trust);
  ASSERT_TRUE(client);
  client->subscribe("backend.demo:8080");
  client->start();
  ASSERT_TRUE(eventually([&] { return client->stats().failures >= 2; }));
  EXPECT_EQ(client->stats().connects, 0u);

  auto followed = (*trust)->follow({stale.certPem, cert_.certPem});
  ASSERT_TRUE(followed) << followed.error().message;
  EXPECT_TRUE(*followed);
  ASSERT_TRUE(server_.waitForRequests(kBackendTarget, 1));
  ASSERT_EQ(server_.send(kBackendTarget, outbound("1", "192.0.2.7:80")), 1);
  EXPECT_TRUE(snapshots_.waitFor([](const auto& s) { return endpointOf(s) == "192.0.2.7:80"; }));
  client->stop();
}

// --control-plane-ca names a certificate from outside the mesh: the mesh's
// bundle never replaces it.
TEST(ControlPlaneTrustTest, FixedRootsIgnoreTheMeshBundle) {
  const TestCert ca = testing::makeSelfSignedCert("outside-ca");
  const TestCert mesh = testing::makeSelfSignedCert("mesh-root");
  auto trust = ControlPlaneTrust::create(ca.certPem, ControlPlaneTrust::Mode::kFixed);
  ASSERT_TRUE(trust);
  auto before = (*trust)->fingerprints();
  ASSERT_EQ(before.size(), 1u);
  auto followed = (*trust)->follow({mesh.certPem});
  ASSERT_TRUE(followed);
  EXPECT_FALSE(*followed);
  EXPECT_EQ((*trust)->fingerprints(), before);
}

TEST(ControlPlaneTrustTest, FollowsByFingerprintAndRefusesABadBundle) {
  const TestCert a = testing::makeSelfSignedCert("root-a");
  const TestCert b = testing::makeSelfSignedCert("root-b");
  auto trust = ControlPlaneTrust::create(a.certPem, ControlPlaneTrust::Mode::kFollowMesh);
  ASSERT_TRUE(trust);
  auto context = (*trust)->context();
  // The same root written differently (no final newline) changes nothing.
  std::string bare = a.certPem.substr(0, a.certPem.find_last_not_of('\n') + 1);
  EXPECT_FALSE((*trust)->follow({bare}).value());
  EXPECT_EQ((*trust)->context(), context);

  auto bad = (*trust)->follow({"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"});
  EXPECT_FALSE(bad);
  EXPECT_EQ((*trust)->fingerprints().size(), 1u);
  EXPECT_EQ((*trust)->context(), context) << "a bad bundle keeps the roots in use";

  EXPECT_TRUE((*trust)->follow({a.certPem, b.certPem}).value());
  EXPECT_EQ((*trust)->fingerprints().size(), 2u);
  EXPECT_NE((*trust)->context(), context) << "new connections get a new context";
  EXPECT_FALSE((*trust)->follow({}).value()) << "an empty bundle is no bundle";
  EXPECT_EQ((*trust)->fingerprints().size(), 2u);
}

TEST(ControlPlaneTrustTest, RefusesRootsThatDoNotParse) {
  for (ControlPlaneTrust::Mode mode :
       {ControlPlaneTrust::Mode::kFixed, ControlPlaneTrust::Mode::kFollowMesh}) {
    EXPECT_FALSE(ControlPlaneTrust::create("", mode));
    auto bad = ControlPlaneTrust::create("not a certificate", mode);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("PEM"), std::string::npos) << bad.error().message;
  }
}

TEST(DiscoveryClientCreateTest, RefusesUnusableOptions) {
  const TestCert cert = testing::makeSelfSignedCert();
  auto trust = ControlPlaneTrust::create(cert.certPem, ControlPlaneTrust::Mode::kFixed);
  ASSERT_TRUE(trust);
  auto options = [](std::string host, std::shared_ptr<ControlPlaneTrust> t) {
    ClientOptions o;
    o.host = std::move(host);
    o.trust = std::move(t);
    return o;
  };
  EXPECT_FALSE(Client::create(options("", *trust), {}));
  auto noRoots = Client::create(options("cp", nullptr), {});
  ASSERT_FALSE(noRoots);
  EXPECT_NE(noRoots.error().message.find("no roots"), std::string::npos);
}

}  // namespace
}  // namespace weft::proxy::discovery
