// weft-proxy HTTP/1.1 behaviour with real processes on loopback: keep-alive,
// streaming, 100-continue, upgrade tunnels, hardening and admin endpoints.
#include <csignal>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kHost = "backend.demo:8080";

class ProxyHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<Backend>(dir_, "a");
    b_ = std::make_unique<Backend>(dir_, "b");
    ASSERT_NE(a_->port(), 0);
    ASSERT_NE(b_->port(), 0);
    dir_.write("proxy.yaml", outboundYaml(kHost, {a_->address(), b_->address()}));
    proxy_ = std::make_unique<Proxy>(dir_, dir_.file("proxy.yaml"),
                                     std::vector<std::string>{"--workers", "2", "--header-timeout",
                                                              "300ms", "--log-level", "debug"});
    ASSERT_NE(proxy_->ports().outbound, 0) << proxy_->log();
  }
  unsigned short port() const { return proxy_->ports().outbound; }

  TempDir dir_;
  std::unique_ptr<Backend> a_;
  std::unique_ptr<Backend> b_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyHttpTest, KeepAliveBalancesAndPreservesHeaderCase) {
  Client c(port());
  ASSERT_TRUE(c.connected());
  std::set<std::string> seen;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(c.send(request("GET", "/r" + std::to_string(i), kHost, {"X-MiXeD-Case: yes"})));
    auto r = c.read();
    ASSERT_TRUE(r) << proxy_->log();
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->closed);
    seen.insert(r->header("x-backend"));
    EXPECT_NE(r->body.find("\"X-MiXeD-Case\",\"yes\""), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("\"/r" + std::to_string(i) + "\""), std::string::npos);
  }
  EXPECT_TRUE(seen.count("a") + seen.count("b") == seen.size()) << "only configured backends";
}

TEST(ProxyHttpRoundRobinTest, RoundRobinSpreadsSequentialRequests) {
  TempDir dir;
  Backend a(dir, "a"), b(dir, "b");
  dir.write("proxy.yaml", outboundYaml(kHost, {a.address(), b.address()},
                                       "policy:\n  loadBalancer: round-robin\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  Client c(proxy.ports().outbound);
  std::set<std::string> seen;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(c.send(request("GET", "/", kHost)));
    auto r = c.read();
    ASSERT_TRUE(r);
    seen.insert(r->header("x-backend"));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b"}));
}

TEST_F(ProxyHttpTest, HopByHopHeadersAreRemoved) {
  Client c(port());
  ASSERT_TRUE(c.send(request("GET", "/", kHost,
                             {"Connection: keep-alive, X-Secret", "X-Secret: 1", "Keep-Alive: 5",
                              "TE: trailers", "Proxy-Connection: x", "X-Kept: 1"})));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.find("X-Secret"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("Keep-Alive"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("\"TE\""), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("Proxy-Connection"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("X-Kept"), std::string::npos) << r->body;
}

TEST_F(ProxyHttpTest, ChunkedBodiesStreamBothWays) {
  Client c(port());
  ASSERT_TRUE(c.send(request("GET", "/chunked/500", kHost)));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("transfer-encoding"), "chunked");
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    expected += "chunk-" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(r->body, expected);

  // A 300 KiB chunked upload (past the replay buffer, so streamed).
  std::string body(300 * 1024, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + i % 26);
  }
  std::string req = "POST /upload HTTP/1.1\r\nHost: " + std::string(kHost) +
                    "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t off = 0; off < body.size(); off += 10000) {
    auto piece = body.substr(off, 10000);
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
    req += size + piece + "\r\n";
  }
  req += "0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"bodyLength\":" + std::to_string(body.size())), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("\"bodyHash\":" + std::to_string(std::hash<std::string>{}(body))),
            std::string::npos);
}

TEST_F(ProxyHttpTest, ExpectContinueIsAnsweredBeforeTheBody) {
  Client c(port());
  ASSERT_TRUE(c.send("POST /e HTTP/1.1\r\nHost: " + std::string(kHost) +
                     "\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = c.readSome(25);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"bodyLength\":5"), std::string::npos);
  EXPECT_EQ(r->body.find("Expect"), std::string::npos) << r->body;
}

TEST_F(ProxyHttpTest, UpgradeBecomesATunnel) {
  Client c(port());
  ASSERT_TRUE(
      c.send(request("GET", "/upgrade", kHost, {"Connection: Upgrade", "Upgrade: websocket"})));
  auto r = c.read();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 101);
  EXPECT_EQ(r->header("upgrade"), "websocket");
  for (int i = 0; i < 5; ++i) {
    std::string msg = "frame-" + std::to_string(i) + std::string(1000, static_cast<char>(i));
    ASSERT_TRUE(c.send(msg));
    EXPECT_EQ(c.readSome(msg.size()), msg);
  }
}

TEST_F(ProxyHttpTest, SmugglingAttemptsAreRefusedAndOthersStillServed) {
  const std::vector<std::string> attacks = {
      // CL.TE
      "POST / HTTP/1.1\r\nHost: " + std::string(kHost) +
          "\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
      // Transfer-Encoding not ending in chunked
      "POST / HTTP/1.1\r\nHost: " + std::string(kHost) +
          "\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
      // Duplicate, differing Content-Length
      "POST / HTTP/1.1\r\nHost: " + std::string(kHost) +
          "\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
      // Chunked on HTTP/1.0
      "POST / HTTP/1.0\r\nHost: " + std::string(kHost) +
          "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      // Malformed chunk size
      "POST / HTTP/1.1\r\nHost: " + std::string(kHost) +
          "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      // Two Host fields
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      // Header too large
      "GET / HTTP/1.1\r\nHost: " + std::string(kHost) + "\r\nX-Big: " + std::string(70000, 'a') +
          "\r\n\r\n",
  };
  Client good(port());
  for (std::size_t i = 0; i < attacks.size(); ++i) {
    Client bad(port());
    ASSERT_TRUE(bad.send(attacks[i]));
    auto r = bad.read();
    ASSERT_TRUE(r) << "attack " << i;
    EXPECT_EQ(r->status, 400) << "attack " << i;
    EXPECT_EQ(r->header("weft-error"), "bad_request") << "attack " << i;
    EXPECT_TRUE(bad.waitClosed(2s)) << "attack " << i;
    ASSERT_TRUE(good.send(request("GET", "/ok", kHost)));
    auto ok = good.read();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  }
  auto metrics = get(proxy_->ports().admin, "x", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_GE(metricValue(metrics->body, "weft_proxy_errors_total", {"reason=\"bad_request\""}),
            static_cast<double>(attacks.size()));
}

TEST_F(ProxyHttpTest, MalformedUpstreamResponseIs502) {
  auto r = get(port(), kHost, "/malformed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("weft-error"), "upstream_protocol_error");
  EXPECT_FALSE(r->body.empty());
  EXPECT_EQ(r->body.find('\n'), r->body.size() - 1) << "one line: " << r->body;
}

TEST_F(ProxyHttpTest, SlowClientIsCutOffByHeaderTimeout) {
  Client slow(port(), 5s);
  ASSERT_TRUE(slow.send("GET / HTTP/1.1\r\nHost: "));
  auto started = std::chrono::steady_clock::now();
  auto answer = slow.read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 408);
  EXPECT_EQ(answer->header("weft-error"), "header_timeout");
  EXPECT_TRUE(slow.waitClosed(3s));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 200ms);
  auto metrics = get(proxy_->ports().admin, "x", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_GE(metricValue(metrics->body, "weft_proxy_errors_total", {"reason=\"header_timeout\""}),
            1.0);
  auto ok = get(port(), kHost, "/");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ProxyHttpTest, UnknownHostWithoutRedirectIsExplained) {
  auto r = get(port(), "nowhere.example:80", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("weft-error"), "no_route");
}

TEST_F(ProxyHttpTest, AdminEndpoints) {
  auto admin = proxy_->ports().admin;
  auto live = get(admin, "x", "/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = get(admin, "x", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto config = get(admin, "x", "/config");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->status, 200);
  EXPECT_NE(config->body.find(kHost), std::string::npos) << config->body;
  ASSERT_TRUE(get(port(), kHost, "/"));
  auto metrics = get(admin, "x", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_GE(metricValue(metrics->body, "weft_requests_total",
                        {"destination=\"backend.demo:8080\"", "code=\"200\""}),
            1.0)
      << metrics->body;
  auto notFound = get(admin, "x", "/nope");
  ASSERT_TRUE(notFound);
  EXPECT_EQ(notFound->status, 404);
}

TEST_F(ProxyHttpTest, SigtermFinishesInFlightRequestsThenExitsZero) {
  Client c(port(), 10s);
  ASSERT_TRUE(c.send(request("GET", "/sleep/700", kHost)));
  // The request is in flight once the backend has it; then drain.
  ASSERT_TRUE(waitFor(
      [&] {
        auto m = get(proxy_->ports().admin, "x", "/metrics");
        return m && metricValue(m->body, "weft_http_requests_active") >= 1;
      },
      5s));
  ::kill(proxy_->child().pid(), SIGTERM);
  auto r = c.read();
  ASSERT_TRUE(r) << proxy_->log();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(proxy_->child().stop(0, 10s), 0) << proxy_->log();
}

TEST_F(ProxyHttpTest, ShutdownEndpointDrainsFromLoopback) {
  Client admin(proxy_->ports().admin);
  ASSERT_TRUE(admin.send(request("POST", "/shutdown", "x")));
  auto r = admin.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(waitFor([&] { return !proxy_->child().running(); }, 10s));
}

}  // namespace
}  // namespace weft::testing

namespace weft::testing {
namespace {

TEST(ProxyHttpRoutingTest, AnOutboundWithoutBackendsIsAnUnknownService) {
  // What the control plane answers for a name it does not know: the proxy
  // must treat it as no document (egress to the original destination, which
  // a connection made straight to the listener does not have), not as a
  // service without endpoints.
  TempDir dir;
  dir.write("proxy.yaml",
            "kind: Outbound\nversion: \"1\"\nauthority: external.example:80\nbackends: {}\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto r = get(proxy.ports().outbound, "external.example:80", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502) << r->body;
  EXPECT_EQ(r->header("weft-error"), "no_route");
}

TEST(ProxyHttpRoutingTest, NoMatchingRouteIs404) {
  TempDir dir;
  Backend web(dir, "web");
  dir.write("proxy.yaml",
            "kind: Outbound\nversion: \"1\"\nauthority: web.demo:80\n"
            "routes:\n"
            "  - name: api\n"
            "    matches: [{path: {type: Exact, value: /api}}]\n"
            "backends:\n"
            "  web.demo:80:\n"
            "    endpoints: [{address: \"" +
                web.address() + "\"}]\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto hit = get(proxy.ports().outbound, "web.demo:80", "/api");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->status, 200);
  auto miss = get(proxy.ports().outbound, "web.demo:80", "/other");
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->status, 404);
  EXPECT_EQ(miss->header("weft-error"), "no_route");
}

TEST(ProxyHttpRoutingTest, RoutesByPathRegexAndSetsHeaders) {
  TempDir dir;
  Backend web(dir, "web"), api(dir, "api");
  dir.write("proxy.yaml",
            "kind: Outbound\nversion: \"1\"\nauthority: web.demo:80\n"
            "routes:\n"
            "  - name: api\n"
            "    matches:\n"
            "      - path: {type: PathPrefix, value: /api}\n"
            "    backends: [{name: \"api.demo:80\", weight: 1}]\n"
            "    requestHeaders: {set: {x-routed: api}}\n"
            "  - name: versioned\n"
            "    matches:\n"
            "      - path: {type: RegularExpression, value: \"/v[0-9]+/.*\"}\n"
            "    backends: [{name: \"api.demo:80\"}]\n"
            "  - name: rest\n"
            "    backends: [{name: \"web.demo:80\"}]\n"
            "backends:\n"
            "  web.demo:80:\n"
            "    endpoints: [{address: \"" +
                web.address() +
                "\"}]\n"
                "  api.demo:80:\n"
                "    endpoints: [{address: \"" +
                api.address() + "\"}]\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  struct Case {
    const char* path;
    const char* backend;
  };
  for (const Case& c : {Case{"/api/x", "api"}, Case{"/api", "api"}, Case{"/apix", "web"},
                        Case{"/v2/items", "api"}, Case{"/v/items", "web"}, Case{"/", "web"}}) {
    auto r = get(proxy.ports().outbound, "web.demo:80", c.path);
    ASSERT_TRUE(r) << c.path << proxy.log();
    EXPECT_EQ(r->status, 200) << c.path << r->body;
    EXPECT_EQ(r->header("x-backend"), c.backend) << c.path;
    if (std::string(c.path) == "/api/x") {
      EXPECT_NE(r->body.find("[\"x-routed\",\"api\"]"), std::string::npos) << r->body;
    }
  }
}

TEST(ProxyHttpRoutingTest, FaultInjectionDelaysAndAborts) {
  TempDir dir;
  Backend web(dir, "web");
  dir.write("proxy.yaml",
            "kind: Outbound\nversion: \"1\"\nauthority: web.demo:80\n"
            "routes:\n"
            "  - name: broken\n"
            "    matches: [{path: {type: PathPrefix, value: /broken}}]\n"
            "    fault: {abort: {status: 418, percent: 100}}\n"
            "  - name: slow\n"
            "    matches: [{path: {type: PathPrefix, value: /slow}}]\n"
            "    fault: {delay: {duration: 300ms, percent: 100}}\n"
            "backends:\n"
            "  web.demo:80:\n"
            "    endpoints: [{address: \"" +
                web.address() + "\"}]\n");
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto broken = get(proxy.ports().outbound, "web.demo:80", "/broken");
  ASSERT_TRUE(broken) << proxy.log();
  EXPECT_EQ(broken->status, 418);
  EXPECT_EQ(broken->header("weft-error"), "fault_injected");
  auto started = std::chrono::steady_clock::now();
  auto slow = get(proxy.ports().outbound, "web.demo:80", "/slow");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
}

}  // namespace
}  // namespace weft::testing
