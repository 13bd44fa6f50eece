// The first-container lifecycle with real processes: `weft-proxy wait` and
// `weft-proxy drain` against a running weft-proxy and backend, POST /drain
// from a non-loopback peer, and a proxy leaving once its Inbound document
// says the pod's app containers have terminated.
#include <csignal>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kHost = "backend.demo:8080";

std::string adminAddress(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

// An IPv4 address of this machine that is not loopback; "" when there is none.
std::string nonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return "";
  }
  std::string out;
  for (ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) {
      continue;
    }
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    out = text;
  }
  ::freeifaddrs(list);
  return out;
}

TEST(ProxyWaitTest, ReturnsOnceTheProxyIsReady) {
  TempDir dir;
  const unsigned short admin = freePort();
  // Started before the proxy, as the postStart hook may be.
  Child wait({WEFT_PROXY_BIN, "wait", "--admin", adminAddress(admin), "--timeout", "20s"},
             dir.file("wait.log"));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(wait.running()) << "wait returned before any proxy existed";
  Proxy proxy(dir, "", {}, ProxyPorts{0, 0, admin});
  ASSERT_EQ(proxy.ports().admin, admin) << proxy.log();
  EXPECT_TRUE(waitFor([&] { return !wait.running(); }, 10s));
  EXPECT_EQ(wait.stop(SIGKILL), 0);
}

TEST(ProxyWaitTest, FailsWithAClearMessageAfterTheTimeout) {
  const unsigned short admin = freePort();
  auto started = std::chrono::steady_clock::now();
  auto r =
      runProcess({WEFT_PROXY_BIN, "wait", "--admin", adminAddress(admin), "--timeout", "700ms"});
  EXPECT_GE(std::chrono::steady_clock::now() - started, 600ms);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("wait: proxy at " + adminAddress(admin) +
                       " not ready after 700ms (last answer to GET /ready: connection refused)"),
            std::string::npos)
      << r.err;
  auto bad = runProcess({WEFT_PROXY_BIN, "wait", "--timeout", "soon"});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("wait: --timeout:"), std::string::npos) << bad.err;
  auto badAdmin = runProcess({WEFT_PROXY_BIN, "drain", "--admin", "localhost:15100"});
  EXPECT_EQ(badAdmin.exitCode, 1);
  EXPECT_NE(badAdmin.err.find("drain: --admin: expected IP:PORT"), std::string::npos)
      << badAdmin.err;
}

class ProxyDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<Backend>(dir_, "a");
    ASSERT_NE(backend_->port(), 0);
    dir_.write("proxy.yaml", outboundYaml(kHost, {backend_->address()}));
    proxy_ = std::make_unique<Proxy>(dir_, dir_.file("proxy.yaml"),
                                     std::vector<std::string>{"--workers", "2"});
    ASSERT_NE(proxy_->ports().outbound, 0) << proxy_->log();
  }
  std::string admin() const { return adminAddress(proxy_->ports().admin); }

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyDrainTest, SlowRequestFinishesNewConnectionsAreRefused) {
  Client slow(proxy_->ports().outbound, 10s);
  ASSERT_TRUE(slow.send(request("GET", "/sleep/1500", kHost)));
  ASSERT_TRUE(waitFor(
      [&] {
        auto m = get(proxy_->ports().admin, "x", "/metrics");
        return m && metricValue(m->body, "weft_http_requests_active") >= 1;
      },
      5s));
  // An idle keep-alive connection is closed by the drain.
  Client idle(proxy_->ports().outbound, 5s);
  ASSERT_TRUE(idle.send(request("GET", "/", kHost)));
  ASSERT_TRUE(idle.read());

  auto started = std::chrono::steady_clock::now();
  Child drain({WEFT_PROXY_BIN, "drain", "--admin", admin(), "--timeout", "10s"},
              dir_.file("drain.log"));
  ASSERT_TRUE(waitFor(
      [&] {
        auto ready = get(proxy_->ports().admin, "x", "/ready");
        return ready && ready->status == 503;
      },
      5s));
  EXPECT_TRUE(idle.waitClosed(5s));
  Client late(proxy_->ports().outbound, 2s);
  EXPECT_FALSE(late.connected()) << "a new connection was accepted while draining";
  EXPECT_TRUE(drain.running()) << "drain returned with a request in flight";

  auto r = slow.read();
  ASSERT_TRUE(r) << proxy_->log();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(waitFor([&] { return !drain.running(); }, 5s));
  EXPECT_EQ(drain.stop(SIGKILL), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1000ms);
  // Drained, the proxy waits for the kubelet's SIGTERM, then leaves at once.
  EXPECT_TRUE(proxy_->child().running());
  EXPECT_EQ(proxy_->child().stop(SIGTERM, 5s), 0) << proxy_->log();
}

TEST_F(ProxyDrainTest, TimesOutWhileARequestIsStillInFlight) {
  Client slow(proxy_->ports().outbound, 10s);
  ASSERT_TRUE(slow.send(request("GET", "/sleep/3000", kHost)));
  ASSERT_TRUE(waitFor(
      [&] {
        auto m = get(proxy_->ports().admin, "x", "/metrics");
        return m && metricValue(m->body, "weft_http_requests_active") >= 1;
      },
      5s));
  auto r = runProcess({WEFT_PROXY_BIN, "drain", "--admin", admin(), "--timeout", "500ms"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("drain: proxy at " + admin() +
                       " not drained after 500ms (draining: 1 connections open)"),
            std::string::npos)
      << r.err;
  auto done = slow.read();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200);
}

TEST(ProxyDrainNoProxyTest, NothingListeningIsNothingToDrain) {
  auto r =
      runProcess({WEFT_PROXY_BIN, "drain", "--admin", adminAddress(freePort()), "--timeout", "1s"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST(ProxyDrainRemoteTest, DrainFromANonLoopbackPeerIsRefused) {
  const std::string local = nonLoopbackAddress();
  if (local.empty()) {
    GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  }
  TempDir dir;
  const unsigned short admin = freePort();
  Child proxy({WEFT_PROXY_BIN, "--outbound-listen", "127.0.0.1:0", "--inbound-listen",
               "127.0.0.1:0", "--admin-listen", "0.0.0.0:" + std::to_string(admin)},
              dir.file("proxy.log"));
  ASSERT_TRUE(waitFor([&] { return get(admin, "x", "/live").has_value(); }, 10s));
  Client remote(admin, 5s, local);
  ASSERT_TRUE(remote.connected());
  ASSERT_TRUE(remote.send(request("POST", "/drain", "x")));
  auto r = remote.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "drain is only accepted from loopback\n");
  auto ready = get(admin, "x", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << "a refused drain must not drain";
  Client get405(admin);
  ASSERT_TRUE(get405.send(request("GET", "/drain", "x")));
  auto wrongMethod = get405.read();
  ASSERT_TRUE(wrongMethod);
  EXPECT_EQ(wrongMethod->status, 405);
  EXPECT_EQ(proxy.stop(SIGTERM), 0);
}

// docs/api.md: appContainersTerminated in the pod's Inbound document makes
// the proxy drain and exit 0 (here the document comes from --config; the
// operator's stream feeds the same snapshot path).
TEST(ProxyAppsDoneTest, InboundDocumentWithAppsTerminatedMakesTheProxyExitZero) {
  TempDir dir;
  Backend backend(dir, "a");
  const std::string outbound = outboundYaml(kHost, {backend.address()});
  const std::string inbound = "kind: Inbound\npod: jobs/pi-x7k2p\n";
  dir.write("proxy.yaml", outbound + "---\n" + inbound + "version: \"1\"\n");
  Proxy proxy(dir, dir.file("proxy.yaml"));
  ASSERT_NE(proxy.ports().outbound, 0) << proxy.log();
  auto ok = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(proxy.child().running());

  dir.write("proxy.yaml",
            outbound + "---\n" + inbound + "version: \"2\"\nappContainersTerminated: true\n");
  EXPECT_TRUE(waitFor([&] { return !proxy.child().running(); }, 10s)) << proxy.log();
  EXPECT_EQ(proxy.child().stop(SIGKILL), 0) << proxy.log();
  EXPECT_NE(proxy.log().find("the pod's app containers have terminated"), std::string::npos)
      << proxy.log();
}

}  // namespace
}  // namespace weft::testing
