// weftctl's Prometheus text parser: what our own registry renders, and the
// corners of the format (escapes, +Inf, comments, timestamps), and precise errors.
#include "cli/src/prometheus_text.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/metrics/metrics.h"

namespace weft::cli {
namespace {

const Sample* find(const std::vector<Sample>& samples, const std::string& name,
                   const std::string& labelName = "", const std::string& labelValue = "") {
  for (const auto& s : samples) {
    if (s.name == name && (labelName.empty() || s.label(labelName) == labelValue)) {
      return &s;
    }
  }
  return nullptr;
}

TEST(PrometheusTextTest, ReadsWhatTheMetricsRegistryRenders) {
  metrics::Registry registry;
  auto& requests = registry.counter("weft_requests_total", "requests", {"direction", "code"});
  requests.with({"inbound", "200"}).inc(7);
  requests.with({"in\"b\\ound\n", "503"}).inc(2);
  auto& latency = registry.histogram("weft_request_duration_seconds", "latency",
                                     metrics::latencyBuckets(), {"direction"});
  latency.with({"inbound"}).observe(0.003);
  latency.with({"inbound"}).observe(40);

  auto samples = parsePrometheusText(registry.render());
  ASSERT_TRUE(samples.ok()) << samples.error().message << "\n" << registry.render();
  const Sample* ok = find(*samples, "weft_requests_total", "code", "200");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->value, 7);
  EXPECT_EQ(ok->label("direction"), "inbound");
  const Sample* odd = find(*samples, "weft_requests_total", "direction", "in\"b\\ound\n");
  ASSERT_NE(odd, nullptr) << "escaped label values come back unescaped";
  EXPECT_EQ(odd->value, 2);
  const Sample* inf = find(*samples, "weft_request_duration_seconds_bucket", "le", "+Inf");
  ASSERT_NE(inf, nullptr);
  EXPECT_EQ(inf->value, 2);
  const Sample* le5 = find(*samples, "weft_request_duration_seconds_bucket", "le", "0.005");
  ASSERT_NE(le5, nullptr);
  EXPECT_EQ(le5->value, 1);
  ASSERT_NE(find(*samples, "weft_request_duration_seconds_count"), nullptr);
}

TEST(PrometheusTextTest, AcceptsTheFormatsCorners) {
  auto samples = parsePrometheusText(
      "# HELP x_total A help text with \\\\ and \\n escapes.\n"
      "# TYPE x_total counter\n"
      "\n"
      "   # an indented comment\n"
      "x_total 1\n"
      "x_total{a=\"1\",} 2 1700000000000\n"
      "x_total { a = \"2\" , b=\"with } and , and = inside\" } +Inf\n"
      "y -Inf\r\n"
      "z NaN\n"
      "ns:metric_name{le=\"0.5\"} 1.5e3");
  ASSERT_TRUE(samples.ok()) << samples.error().message;
  ASSERT_EQ(samples->size(), 6u);
  EXPECT_EQ((*samples)[0].value, 1);
  EXPECT_TRUE((*samples)[0].labels.empty());
  EXPECT_EQ((*samples)[1].label("a"), "1");
  EXPECT_EQ((*samples)[1].value, 2) << "the timestamp is not the value";
  EXPECT_EQ((*samples)[2].label("b"), "with } and , and = inside");
  EXPECT_TRUE(std::isinf((*samples)[2].value) && (*samples)[2].value > 0);
  EXPECT_TRUE(std::isinf((*samples)[3].value) && (*samples)[3].value < 0);
  EXPECT_TRUE(std::isnan((*samples)[4].value));
  EXPECT_EQ((*samples)[5].name, "ns:metric_name");
  EXPECT_EQ((*samples)[5].value, 1500);
  EXPECT_EQ((*samples)[5].label("missing"), "");
}

TEST(PrometheusTextTest, MalformedLinesAreErrorsThatNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const auto& c : std::vector<Case>{
           {"ok 1\nbroken\n", "line 2: invalid value \"\""},
           {"x{a=\"1\"} one", "line 1: invalid value \"one\""},
           {"x{a=\"unterminated} 1", "line 1: label a: unterminated label value"},
           {"x{a=\"bad \\t escape\"} 1", "line 1: label a: invalid escape \\t"},
           {"x{a=1} 1", "line 1: label a: a label value must be quoted"},
           {"x{a=\"1\",a=\"2\"} 1", "line 1: label a appears twice"},
           {"x{a=\"1\" b=\"2\"} 1", "line 1: expected , or } after a label"},
           {"x{=\"1\"} 1", "line 1: expected a label name"},
           {"x{a:b=\"1\"} 1", "line 1: expected = after label a"},
           {"1x 1", "line 1: expected a metric name"},
           {"x 1 12abc", "line 1: invalid timestamp \"12abc\""},
           {"x 1 12 more", "line 1: unexpected text after the timestamp"},
       }) {
    auto r = parsePrometheusText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().message, c.error) << c.text;
  }
}

TEST(PrometheusTextTest, KeysIdentifySeriesWhateverTheLabelOrder) {
  auto samples = parsePrometheusText("x{b=\"2\",a=\"1\"} 1\nx{a=\"1\",b=\"2\"} 2\nx{a=\"1\"} 3\n");
  ASSERT_TRUE(samples.ok());
  EXPECT_EQ((*samples)[0].key(), (*samples)[1].key());
  EXPECT_NE((*samples)[0].key(), (*samples)[2].key());
  EXPECT_EQ((*samples)[2].key(), "x{a=\"1\",}");
}

}  // namespace
}  // namespace weft::cli
