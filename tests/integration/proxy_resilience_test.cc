// weft-proxy resilience with real processes: failover without failed
// requests, retries, timeouts, limits, outlier ejection and return, and
// config swaps under load.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kHost = "backend.demo:8080";

// Keep-alive GET load from several threads until stopped; counts outcomes.
class Load {
 public:
  Load(unsigned short port, int threads, std::string path = "/") {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, port, path] {
        std::unique_ptr<Client> c;
        // Bounded: the test stops it within seconds; the cap guards a hang.
        for (int i = 0; i < 200000 && !stop_; ++i) {
          if (!c) {
            c = std::make_unique<Client>(port);
          }
          std::optional<Response> r;
          if (c->send(request("GET", path, kHost))) {
            r = c->read();
          }
          std::lock_guard lock(mu_);
          if (!r) {
            ++failed_;
            c.reset();
            continue;
          }
          ++byStatus_[r->status];
          ++byBackend_[r->header("x-backend")];
          if (r->status != 200) {
            errors_.push_back(std::to_string(r->status) + " " + r->header("weft-error") + " " +
                              r->body);
          }
          if (r->closed) {
            c.reset();
          }
        }
      });
    }
  }
  ~Load() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }
  int total() {
    std::lock_guard lock(mu_);
    int n = failed_;
    for (auto& [_, c] : byStatus_) {
      n += c;
    }
    return n;
  }
  int count(const std::string& backend) {
    std::lock_guard lock(mu_);
    return byBackend_[backend];
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  int non200() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (auto& [s, c] : byStatus_) {
      n += s == 200 ? 0 : c;
    }
    return n;
  }
  std::string errors() {
    std::lock_guard lock(mu_);
    std::string out;
    for (std::size_t i = 0; i < errors_.size() && i < 5; ++i) {
      out += errors_[i] + "\n";
    }
    return out;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  int failed_ = 0;
  std::map<int, int> byStatus_;
  std::map<std::string, int> byBackend_;
  std::vector<std::string> errors_;
};

std::string metrics(const Proxy& p) {
  auto r = get(p.ports().admin, "x", "/metrics");
  return r ? r->body : "";
}

TEST(ProxyResilienceTest, KillingOneOfThreeBackendsUnderLoadFailsNoRequest) {
  TempDir dir;
  Backend a(dir, "a"), b(dir, "b"), c(dir, "c");
  dir.write("proxy.yaml", outboundYaml(kHost, {a.address(), b.address(), c.address()}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "2"});
  Load load(proxy.ports().outbound, 6);
  ASSERT_TRUE(waitFor([&] { return load.count("c") >= 50; }, 10s));
  c.kill();
  int atKill = load.total();
  ASSERT_TRUE(waitFor([&] { return load.total() >= atKill + 3000; }, 20s));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_EQ(load.non200(), 0) << load.errors();
  EXPECT_GT(load.count("a"), 0);
  EXPECT_GT(load.count("b"), 0);
}

TEST(ProxyResilienceTest, RetriesA503OnAnotherEndpoint) {
  TempDir dir;
  Backend bad(dir, "bad", 0, {"--error-rate", "1"});
  Backend good(dir, "good");
  dir.write("proxy.yaml", outboundYaml(kHost, {bad.address(), good.address()},
                                       "policy:\n  loadBalancer: round-robin\n"
                                       "  retries: {backoff: {base: 1ms, max: 2ms}}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  for (int i = 0; i < 20; ++i) {
    auto r = get(proxy.ports().outbound, kHost, "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("x-backend"), "good");
  }
  EXPECT_GE(metricValue(metrics(proxy), "weft_retries_total"), 1.0);
}

TEST(ProxyResilienceTest, SlowUpstreamTimesOutWith504) {
  TempDir dir;
  Backend a(dir, "a");
  dir.write("proxy.yaml",
            outboundYaml(kHost, {a.address()}, "policy:\n  timeouts: {request: 200ms}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto started = std::chrono::steady_clock::now();
  auto r = get(proxy.ports().outbound, kHost, "/sleep/2000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_EQ(r->header("weft-error"), "request_timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  auto ok = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(ProxyResilienceTest, ConnectFailureToEveryEndpointIs502WithReason) {
  TempDir dir;
  auto dead = "127.0.0.1:" + std::to_string(freePort());
  dir.write("proxy.yaml", outboundYaml(kHost, {dead}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto r = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("weft-error"), "connect_refused");
}

TEST(ProxyResilienceTest, ConcurrencyLimitAnswers503Overloaded) {
  TempDir dir;
  Backend a(dir, "a");
  dir.write("proxy.yaml",
            outboundYaml(kHost, {a.address()}, "policy:\n  circuitBreaker: {maxRequests: 1}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  Client slow(proxy.ports().outbound, 10s);
  ASSERT_TRUE(slow.send(request("GET", "/sleep/1000", kHost)));
  ASSERT_TRUE(
      waitFor([&] { return metricValue(metrics(proxy), "weft_http_requests_active") >= 1; }, 5s));
  auto r = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("weft-error"), "overloaded");
  auto first = slow.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  // The limit frees up again: the breaker closes.
  auto after = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_GE(metricValue(metrics(proxy), "weft_proxy_errors_total", {"reason=\"overloaded\""}), 1.0);
}

TEST(ProxyResilienceTest, EjectedEndpointReturnsAfterBackoff) {
  TempDir dir;
  Backend a(dir, "a");
  auto b = std::make_unique<Backend>(dir, "b");
  auto bPort = b->port();
  dir.write("proxy.yaml",
            outboundYaml(kHost, {a.address(), b->address()},
                         // Round robin keeps sending to b: P2C would avoid it after one
                         // failure and never reach the ejection threshold.
                         "policy:\n  loadBalancer: round-robin\n"
                         "  outlierDetection: {consecutiveFailures: 2, baseEjection: 1s}\n"
                         "  retries: {backoff: {base: 1ms, max: 2ms}}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  b->kill();
  // Failures on b are retried on a, so clients still see 200s.
  ASSERT_TRUE(waitFor(
      [&] {
        auto r = get(proxy.ports().outbound, kHost, "/");
        EXPECT_TRUE(r && r->status == 200);
        return metricValue(metrics(proxy), "weft_outlier_ejections_total") >= 1;
      },
      10s));
  Backend back(dir, "b2", bPort);
  ASSERT_EQ(back.port(), bPort);
  EXPECT_TRUE(waitFor(
      [&] {
        auto r = get(proxy.ports().outbound, kHost, "/");
        return r && r->header("x-backend") == "b2";
      },
      15s));
}

TEST(ProxyResilienceTest, NoReadyEndpointWaitsUpTo3sThenFailsFast) {
  TempDir dir;
  Backend a(dir, "a");
  dir.write("proxy.yaml", outboundYaml(kHost, {}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  // A request waits for an endpoint to appear (a rollout, a first answer)...
  Client waiting(proxy.ports().outbound, 10s);
  ASSERT_TRUE(waiting.send(request("GET", "/", kHost)));
  std::this_thread::sleep_for(300ms);
  dir.write("proxy.yaml", outboundYaml(kHost, {a.address()}));
  auto served = waiting.read();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200) << served->body;
  EXPECT_EQ(served->header("x-backend"), "a");
  // ...but once there has been none for 3 s, requests fail at once.
  dir.write("proxy.yaml", outboundYaml(kHost, {}));
  ASSERT_TRUE(
      waitFor([&] { return metricValue(metrics(proxy), "weft_config_reloads_total") >= 2; }, 10s));
  auto started = std::chrono::steady_clock::now();
  auto first = get(proxy.ports().outbound, kHost, "/");
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(first->header("weft-error"), "no_endpoints");
  EXPECT_GE(waited, 2500ms);
  EXPECT_LT(waited, 5s);
  started = std::chrono::steady_clock::now();
  auto next = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 503);
  EXPECT_EQ(next->header("weft-error"), "no_endpoints");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms) << "fails fast";
}

TEST(ProxyResilienceTest, PerTryTimeoutRetriesOnAnotherEndpoint) {
  TempDir dir;
  Backend fast(dir, "fast");
  Backend slow(dir, "slow", 0, {"--latency-ms", "3000"});
  dir.write("proxy.yaml",
            outboundYaml(kHost, {slow.address(), fast.address()},
                         "policy:\n  loadBalancer: round-robin\n"
                         "  timeouts: {perTry: 200ms, request: 5s}\n"
                         "  retries: {on: [gateway-error], backoff: {base: 1ms, max: 2ms}}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = get(proxy.ports().outbound, kHost, "/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->header("x-backend"), "fast");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  }
  EXPECT_GE(metricValue(metrics(proxy), "weft_retries_total"), 1.0);
}

TEST(ProxyResilienceTest, ExhaustedBudgetPassesTheUpstreamAnswerOn) {
  TempDir dir;
  Backend failing(dir, "failing", 0, {"--error-rate", "1"});
  dir.write("proxy.yaml",
            outboundYaml(kHost, {failing.address()},
                         "policy:\n  retries: {budget: {ratio: 0, minPerSecond: 0}}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  auto r = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("x-backend"), "failing") << "the app's own answer, not the proxy's";
  EXPECT_EQ(r->header("weft-error"), "");
  EXPECT_GE(metricValue(metrics(proxy), "weft_retry_budget_exhausted_total"), 1.0);
  EXPECT_EQ(metricValue(metrics(proxy), "weft_retries_total"), 0.0);
}

TEST(ProxyResilienceTest, ConnectionLimitAnswers503Overloaded) {
  TempDir dir;
  Backend a(dir, "a");
  dir.write("proxy.yaml",
            outboundYaml(kHost, {a.address()}, "policy:\n  circuitBreaker: {maxConnections: 1}\n"));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "1"});
  Client slow(proxy.ports().outbound, 10s);
  ASSERT_TRUE(slow.send(request("GET", "/sleep/1000", kHost)));
  ASSERT_TRUE(
      waitFor([&] { return metricValue(metrics(proxy), "weft_http_requests_active") >= 1; }, 5s));
  auto r = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("weft-error"), "overloaded");
  EXPECT_GE(metricValue(metrics(proxy), "weft_circuit_breaker_rejections_total",
                        {"limit=\"connections\""}),
            1.0);
  auto first = slow.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  // The slow request's connection went back to the pool: it is reused.
  auto after = get(proxy.ports().outbound, kHost, "/");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(ProxyResilienceTest, ConfigSwapUnderLoadLosesNothing) {
  TempDir dir;
  Backend a(dir, "a"), b(dir, "b");
  dir.write("proxy.yaml", outboundYaml(kHost, {a.address()}));
  Proxy proxy(dir, dir.file("proxy.yaml"), {"--workers", "2"});
  Load load(proxy.ports().outbound, 4);
  ASSERT_TRUE(waitFor([&] { return load.count("a") >= 200; }, 10s));
  // Swap to b only: in-flight requests on a finish, new ones go to b.
  dir.write("proxy.yaml", outboundYaml(kHost, {b.address()}));
  EXPECT_TRUE(waitFor([&] { return load.count("b") >= 200; }, 10s)) << proxy.log();
  // An invalid file is refused and the old config stays.
  dir.write("proxy.yaml", "kind: Outbound\nauthority: [broken\n");
  int before = load.count("b");
  EXPECT_TRUE(waitFor(
      [&] { return metricValue(metrics(proxy), "weft_config_reload_failures_total") >= 1; }, 10s));
  EXPECT_TRUE(waitFor([&] { return load.count("b") >= before + 200; }, 10s));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_EQ(load.non200(), 0) << load.errors();
  EXPECT_GE(metricValue(metrics(proxy), "weft_config_reloads_total"), 1.0);
}

}  // namespace
}  // namespace weft::testing
