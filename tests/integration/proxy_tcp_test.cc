// weft-proxy opaque TCP: byte-exact passthrough of a non-HTTP protocol,
// detection timeout for server-speaks-first protocols, byte counters.
#include <atomic>
#include <random>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng());
  }
  s[0] = '\x16';  // never a method token: looks like TLS
  return s;
}

// Without iptables the original destination is the listener itself, so the
// test names the proxy's own address as an alias of the service.
TEST(ProxyTcpTest, OpaqueProtocolIsForwardedByteExact) {
  TempDir dir;
  EchoServer echo;
  auto proxyPort = freePort();
  dir.write("proxy.yaml",
            outboundYaml("echo.demo:9000", {"127.0.0.1:" + std::to_string(echo.port())},
                         "protocol: tcp\n", {"127.0.0.1:" + std::to_string(proxyPort)}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "2"}, ProxyPorts{proxyPort, 0, 0});
  ASSERT_EQ(proxy.ports().outbound, proxyPort) << proxy.log();
  Client c(proxyPort);
  std::size_t total = 0;
  for (unsigned i = 0; i < 8; ++i) {
    auto bytes = randomBytes(100000 + i * 777, i);
    ASSERT_TRUE(c.send(bytes));
    EXPECT_EQ(c.readSome(bytes.size()), bytes) << "round " << i;
    total += bytes.size();
  }
  auto m = get(proxy.ports().admin, "x", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_TRUE(waitFor(
      [&] {
        auto mm = get(proxy.ports().admin, "x", "/metrics");
        return mm && metricValue(mm->body, "weft_tcp_bytes_total", {"flow=\"to_client\""}) >=
                         static_cast<double>(total);
      },
      5s));
}

TEST(ProxyTcpTest, NonHttpBytesOnAnHttpServiceAreDetectedAsTcp) {
  TempDir dir;
  EchoServer echo;
  auto proxyPort = freePort();
  dir.write("proxy.yaml",
            outboundYaml("echo.demo:9000", {"127.0.0.1:" + std::to_string(echo.port())}, "",
                         {"127.0.0.1:" + std::to_string(proxyPort)}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"}, ProxyPorts{proxyPort, 0, 0});
  Client c(proxyPort);
  // An HTTP/2 prior-knowledge preface is not HTTP/1: passed through as TCP.
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + randomBytes(5000, 7);
  ASSERT_TRUE(c.send(preface));
  EXPECT_EQ(c.readSome(preface.size()), preface);
}

TEST(ProxyTcpTest, ServerSpeaksFirstWaitsOnlyForTheDetectionTimeout) {
  TempDir dir;
  EchoServer server("220 ready\r\n");
  auto proxyPort = freePort();
  dir.write("proxy.yaml",
            outboundYaml("smtp.demo:2525", {"127.0.0.1:" + std::to_string(server.port())}, "",
                         {"127.0.0.1:" + std::to_string(proxyPort)}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1", "--detect-timeout", "200ms"},
              ProxyPorts{proxyPort, 0, 0});
  Client c(proxyPort, 5s);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(c.readSome(11), "220 ready\r\n");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2s);
  auto m = get(proxy.ports().admin, "x", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_GE(metricValue(m->body, "weft_protocol_detect_timeouts_total"), 1.0);
}

}  // namespace
}  // namespace weft::testing
