// weft-proxy as a transparent proxy: in a network namespace of its own (root
// only; skipped otherwise), iptables redirects connections to a service
// address to the proxy, which reads SO_ORIGINAL_DST to find the service.
// Only 198.51.100.0/24 on the namespace's loopback is used.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kServiceIp = "198.51.100.10";

class ProxyNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root for a network namespace and iptables";
    }
    // Each test runs in its own process under ctest; the namespace is
    // private to this process and its children and vanishes with them.
    if (::unshare(CLONE_NEWNET) != 0) {
      GTEST_SKIP() << "unshare(CLONE_NEWNET) failed";
    }
    ASSERT_EQ(runProcess({"/usr/sbin/ip", "link", "set", "lo", "up"}).exitCode, 0);
    ASSERT_EQ(
        runProcess({"/usr/sbin/ip", "addr", "add", std::string(kServiceIp) + "/32", "dev", "lo"})
            .exitCode,
        0);
    proxyPort_ = freePort();
    auto r = runProcess({"/usr/sbin/iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d",
                         kServiceIp, "-j", "REDIRECT", "--to-ports", std::to_string(proxyPort_)});
    if (r.exitCode != 0) {
      GTEST_SKIP() << "iptables unavailable: " << r.err;
    }
  }

  unsigned short proxyPort_ = 0;
};

TEST_F(ProxyNetnsTest, RedirectedConnectionsFindTheServiceByOriginalDestination) {
  TempDir dir;
  Backend backend(dir, "a");
  EchoServer smtp("220 ready\r\n");
  EchoServer redis("+HELLO\r\n");
  auto ip = std::string(kServiceIp);
  dir.write("proxy.yaml",
            outboundYaml("backend.demo:8080", {backend.address()}, "", {ip + ":8080"}) + "---\n" +
                outboundYaml("smtp.demo:2525", {"127.0.0.1:" + std::to_string(smtp.port())}, "",
                             {ip + ":2525"}) +
                "---\n" +
                outboundYaml("redis.demo:6379", {"127.0.0.1:" + std::to_string(redis.port())}, "",
                             {ip + ":6379"}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1", "--detect-timeout", "300ms"},
              ProxyPorts{proxyPort_, 0, 0});
  ASSERT_EQ(proxy.ports().outbound, proxyPort_) << proxy.log();

  // HTTP to the service address, with a Host the proxy does not know.
  {
    Client c(8080, 5s, ip);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(request("GET", "/via-original-dst", "unknown.example")));
    auto r = c.read();
    ASSERT_TRUE(r) << proxy.log();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("x-backend"), "a");
  }
  // Server speaks first: the first connection waits for detection...
  {
    Client c(2525, 5s, ip);
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(c.readSome(11), "220 ready\r\n");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  }
  // ...and the destination is remembered as opaque: no wait the second time.
  {
    Client c(2525, 5s, ip);
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(c.readSome(11), "220 ready\r\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);
  }
  // A default opaque port (Redis) is never sniffed.
  {
    Client c(6379, 5s, ip);
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(c.readSome(8), "+HELLO\r\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);
  }
  auto m = get(proxy.ports().admin, "x", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(metricValue(m->body, "weft_protocol_detect_timeouts_total"), 1.0);
}

// Inbound: a connection to the pod's port is redirected to the inbound
// listener, which delivers it to the app on 127.0.0.1:<original port>.
TEST_F(ProxyNetnsTest, InboundDeliversToTheAppOnLoopback) {
  TempDir dir;
  Backend app(dir, "app", 8080);  // the namespace is ours: port 8080 is free
  ASSERT_EQ(app.port(), 8080);
  auto inboundPort = freePort();
  auto r =
      runProcess({"/usr/sbin/iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d",
                  "198.51.100.11", "-j", "REDIRECT", "--to-ports", std::to_string(inboundPort)});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  ASSERT_EQ(runProcess({"/usr/sbin/ip", "addr", "add", "198.51.100.11/32", "dev", "lo"}).exitCode,
            0);
  dir.write("proxy.yaml",
            "kind: Inbound\nversion: \"1\"\npod: demo/app\n"
            "ports: [{port: 8080, protocol: http}]\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"},
              ProxyPorts{proxyPort_, inboundPort, 0});
  ASSERT_EQ(proxy.ports().inbound, inboundPort) << proxy.log();
  Client c(8080, 5s, "198.51.100.11");
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(request("GET", "/in", "app.demo:8080")));
    auto res = c.read();
    ASSERT_TRUE(res) << proxy.log();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("x-backend"), "app");
  }
  auto m = get(proxy.ports().admin, "x", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_GE(metricValue(m->body, "weft_requests_total", {"direction=\"inbound\"", "code=\"200\""}),
            3.0)
      << m->body;
}

TEST_F(ProxyNetnsTest, StrictRefusesPlaintextInboundButTheKubeletsProbes) {
  TempDir dir;
  Backend app(dir, "app", 8080);
  ASSERT_EQ(app.port(), 8080);
  Backend db(dir, "db", 5432);
  ASSERT_EQ(db.port(), 5432);
  auto inboundPort = freePort();
  auto r =
      runProcess({"/usr/sbin/iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d",
                  "198.51.100.11", "-j", "REDIRECT", "--to-ports", std::to_string(inboundPort)});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  ASSERT_EQ(runProcess({"/usr/sbin/ip", "addr", "add", "198.51.100.11/32", "dev", "lo"}).exitCode,
            0);
  dir.write("proxy.yaml",
            "kind: Inbound\nversion: \"1\"\npod: demo/app\nmtls: STRICT\n"
            "ports: [{port: 8080, protocol: http}, {port: 5432, protocol: tcp}]\n"
            "probes: [{port: 8080, path: /healthz}]\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"},
              ProxyPorts{proxyPort_, inboundPort, 0});
  Client c(8080, 5s, "198.51.100.11");
  ASSERT_TRUE(c.send(request("GET", "/healthz?verbose=1", "10.0.0.5:8080")));
  auto probe = c.read();
  ASSERT_TRUE(probe) << proxy.log();
  EXPECT_EQ(probe->status, 200);
  EXPECT_EQ(probe->header("x-backend"), "app");
  ASSERT_TRUE(c.send(request("GET", "/private", "app.demo:8080")));
  auto other = c.read();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(other->header("weft-error"), "plaintext_refused");
  ASSERT_TRUE(c.send(request("POST", "/healthz", "app.demo:8080")));
  auto post = c.read();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403) << "only GET and HEAD are probes";
  // A port without probes refuses plaintext outright, whatever the protocol.
  Client tcp(5432, 3s, "198.51.100.11");
  ASSERT_TRUE(tcp.connected());
  EXPECT_TRUE(tcp.waitClosed(2s));
  auto m = get(proxy.ports().admin, "x", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_GE(metricValue(m->body, "weft_proxy_errors_total", {"reason=\"plaintext_refused\""}), 3.0);
}

}  // namespace
}  // namespace weft::testing
