// The load generator's options and reports.
#include "examples/sample/load.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace weft::sample {
namespace {

using namespace std::chrono_literals;

LoadOptions bounded() {
  LoadOptions o;
  o.url = *parseUrl("http://127.0.0.1:8080/");
  o.requests = 10;
  return o;
}

std::string whyNot(const LoadOptions& o) {
  auto r = validate(o);
  return r.ok() ? "" : r.error().message;
}

TEST(LoadOptionsTest, ABoundIsRequiredAndOnlyOne) {
  EXPECT_EQ(whyNot(bounded()), "");
  LoadOptions none = bounded();
  none.requests = 0;
  EXPECT_EQ(whyNot(none), "a bound is required: --requests N or --duration D");
  LoadOptions both = bounded();
  both.duration = 1s;
  EXPECT_NE(whyNot(both).find("give one"), std::string::npos);
  LoadOptions timed = none;
  timed.duration = 1s;
  EXPECT_EQ(whyNot(timed), "");
}

TEST(LoadOptionsTest, RangesAreChecked) {
  auto with = [](auto change) {
    LoadOptions o = bounded();
    change(o);
    return whyNot(o);
  };
  EXPECT_NE(with([](LoadOptions& o) { o.concurrency = 0; }).find("--concurrency"),
            std::string::npos);
  EXPECT_NE(with([](LoadOptions& o) { o.concurrency = 5000; }).find("--concurrency"),
            std::string::npos);
  EXPECT_NE(with([](LoadOptions& o) { o.rate = -1; }).find("--rate"), std::string::npos);
  EXPECT_NE(with([](LoadOptions& o) { o.timeout = 0ms; }).find("--timeout"), std::string::npos);
  EXPECT_NE(with([](LoadOptions& o) { o.interval = 10ms; }).find("--interval"), std::string::npos);
  EXPECT_NE(with([](LoadOptions& o) { o.duration = 25h, o.requests = 0; }).find("24h"),
            std::string::npos);
}

LoadReport sampleReport() {
  LoadReport r;
  r.seconds = 2;
  r.stats.total = 10;
  r.stats.ok = 7;
  r.stats.byStatus = {{200, 7}, {503, 2}};
  r.stats.byError = {{"connect_refused", 1}};
  r.stats.versions = {{"v1", 6}, {"v2", 3}};
  r.stats.upstreamVersions = {{"v2", 9}};
  for (int i = 1; i <= 9; ++i) {
    r.stats.latency.record(std::chrono::milliseconds(i * 10));
  }
  return r;
}

TEST(LoadReportTest, JsonHasEveryCount) {
  auto doc = nlohmann::json::parse(formatJson(sampleReport()));
  EXPECT_EQ(doc["requests"], 10);
  EXPECT_EQ(doc["ok"], 7);
  EXPECT_EQ(doc["failed"], 3);
  EXPECT_EQ(doc["status"]["503"], 2);
  EXPECT_EQ(doc["errors"]["connect_refused"], 1);
  EXPECT_EQ(doc["versions"]["v2"], 3);
  EXPECT_EQ(doc["upstream_versions"]["v2"], 9);
  EXPECT_NEAR(doc["latency_ms"]["p50"].get<double>(), 50, 1);
  EXPECT_NEAR(doc["latency_ms"]["p99"].get<double>(), 90, 1.5);
  EXPECT_EQ(doc["interrupted"], false);
}

TEST(LoadReportTest, TextNamesFailuresAndVersions) {
  std::string text = formatSummary(sampleReport());
  EXPECT_NE(text.find("requests  10 in 2.0s (5.0/s)"), std::string::npos) << text;
  EXPECT_NE(text.find("failed    3: HTTP 503 x2, connect_refused x1"), std::string::npos) << text;
  EXPECT_NE(text.find("versions  v1 6, v2 3"), std::string::npos) << text;
  EXPECT_NE(text.find("upstream  v2 9"), std::string::npos) << text;
  std::string line = formatInterval(1.0, 1.0, sampleReport().stats);
  EXPECT_NE(line.find("10.0 req/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ok  70.0%"), std::string::npos) << line;
}

TEST(LoadReportTest, MergeAddsUp) {
  LoadStats a = sampleReport().stats;
  a.merge(sampleReport().stats);
  EXPECT_EQ(a.total, 20u);
  EXPECT_EQ(a.failed(), 6u);
  EXPECT_EQ(a.byStatus[503], 4u);
  EXPECT_EQ(a.latency.count(), 18u);
}

}  // namespace
}  // namespace weft::sample
