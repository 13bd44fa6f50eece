// Metrics: sharded updates sum correctly, label sets stay bounded, and the
// text exposition is what Prometheus parses.
#include "common/metrics/metrics.h"

#include <thread>

#include <gtest/gtest.h>

namespace weft::metrics {
namespace {

TEST(MetricsTest, CounterSumsAcrossThreadShards) {
  Registry r(4);
  auto& c = r.counter("weft_test_total", "test").get();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      setThreadShard(t);
      for (int i = 0; i < 10000; ++i) {
        c.inc();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_NE(r.render().find("weft_test_total 40000\n"), std::string::npos) << r.render();
}

TEST(MetricsTest, LabelsRenderEscapedAndSeriesAreReused) {
  Registry r;
  auto& f = r.counter("weft_requests_total", "requests", {"direction", "code"});
  f.with({"outbound", "200"}).inc(2);
  f.with({"outbound", "200"}).inc();
  f.with({"in\"b\\ound\n", "503"}).inc();
  auto text = r.render();
  EXPECT_NE(text.find("# HELP weft_requests_total requests\n# TYPE weft_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("weft_requests_total{direction=\"outbound\",code=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("weft_requests_total{direction=\"in\\\"b\\\\ound\\n\",code=\"503\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, CardinalityIsBounded) {
  Registry r;
  auto& f = r.counter("weft_paths_total", "bounded", {"path"}, 3);
  for (int i = 0; i < 100; ++i) {
    f.with({"/p" + std::to_string(i)}).inc();
  }
  auto text = r.render();
  EXPECT_NE(text.find("weft_paths_total{path=\"other\"} 97\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("/p3\""), std::string::npos) << text;
}

TEST(MetricsTest, GaugeAddsAndSets) {
  Registry r(2);
  auto& g = r.gauge("weft_open", "open").get();
  g.add(5);
  g.add(-2);
  EXPECT_EQ(g.value(), 3);
  auto& s = r.gauge("weft_set", "set").get();
  s.set(42);
  s.set(7);
  EXPECT_EQ(s.value(), 7);
  EXPECT_NE(r.render().find("weft_open 3\n"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r(2);
  auto& h = r.histogram("weft_latency_seconds", "latency", {0.1, 1}, {"dst"}).with({"a"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(0.5);
  h.observe(5);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 6.05);
  auto text = r.render();
  EXPECT_NE(text.find("weft_latency_seconds_bucket{dst=\"a\",le=\"0.1\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("weft_latency_seconds_bucket{dst=\"a\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("weft_latency_seconds_bucket{dst=\"a\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("weft_latency_seconds_count{dst=\"a\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("weft_latency_seconds_sum{dst=\"a\"} 6.05\n"), std::string::npos);
}

TEST(MetricsDeathTest, BadNamesStopTheProcess) {
  Registry r;
  EXPECT_DEATH(r.counter("requests_total", "no prefix"), "bad metric name");
  EXPECT_DEATH(r.counter("weft_x", "bad label", {"le"}), "bad label");
  r.counter("weft_dup", "once");
  EXPECT_DEATH(r.counter("weft_dup", "twice"), "duplicate");
}

}  // namespace
}  // namespace weft::metrics
