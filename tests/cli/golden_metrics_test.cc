// weftctl stat's math: increases between scrapes, quantiles from histogram
// buckets, and the golden metrics of a window.
#include "cli/src/golden_metrics.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace weft::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Sample> parse(const std::string& text) {
  auto r = parsePrometheusText(text);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<Sample>{};
}

double valueOf(const std::vector<Sample>& samples, const std::string& key) {
  for (const auto& s : samples) {
    if (s.key() == key) {
      return s.value;
    }
  }
  return -1;
}

TEST(IncreaseTest, SubtractsPerSeriesAndHandlesResetsAndNewSeries) {
  auto before = parse("a{x=\"1\"} 10\na{x=\"2\"} 50\ngone 5\n");
  auto after = parse("a{x=\"2\"} 20\na{x=\"1\"} 25\nnew 4\n");
  auto d = increase(before, after);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(valueOf(d, "a{x=\"1\",}"), 15);
  EXPECT_EQ(valueOf(d, "a{x=\"2\",}"), 20) << "went down: a restart, so all of it is new";
  EXPECT_EQ(valueOf(d, "new{}"), 4);
  EXPECT_EQ(valueOf(d, "gone{}"), -1);
}

TEST(QuantileTest, InterpolatesInsideTheBucket) {
  std::vector<Bucket> b = {{0.1, 50}, {0.2, 100}, {kInf, 100}};
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.5, b), 0.1);
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.75, b), 0.15);
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.25, b), 0.05) << "the first bucket starts at 0";
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(1.0, b), 0.2);
}

TEST(QuantileTest, MatchesPromqlOnAnUnevenHistogram) {
  // histogram_quantile(0.99, ...) on these buckets is 0.25 + 0.25 * (99 - 90) / 10 = 0.475.
  std::vector<Bucket> b = {{0.05, 20}, {0.1, 60}, {0.25, 90}, {0.5, 100}, {kInf, 100}};
  EXPECT_NEAR(*quantileFromBuckets(0.99, b), 0.475, 1e-12);
  EXPECT_NEAR(*quantileFromBuckets(0.5, b), 0.05 + 0.05 * (50 - 20) / 40.0, 1e-12);
}

TEST(QuantileTest, TheInfBucketGivesTheLargestFiniteBound) {
  std::vector<Bucket> b = {{0.1, 1}, {30, 2}, {kInf, 10}};
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.99, b), 30);
  EXPECT_FALSE(quantileFromBuckets(0.5, {{kInf, 5}}).has_value()) << "no finite bound to give";
}

TEST(QuantileTest, NoObservationsNoQuantile) {
  EXPECT_FALSE(quantileFromBuckets(0.5, {}).has_value());
  EXPECT_FALSE(quantileFromBuckets(0.5, {{0.1, 0}, {kInf, 0}}).has_value());
}

TEST(QuantileTest, UnsortedOrDippingBucketsAreMadeSane) {
  std::vector<Bucket> b = {{kInf, 100}, {0.2, 90}, {0.1, 95}};
  // Sorted: 0.1 -> 95, 0.2 -> 90 (raised to 95), +Inf -> 100.
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.5, b), 0.1 * 50 / 95);
  EXPECT_DOUBLE_EQ(*quantileFromBuckets(0.99, b), 0.2);
}

TEST(GoldenTest, RatesSuccessLatencyAndMtlsShareOfAWindow) {
  auto before = parse(R"(
weft_requests_total{direction="inbound",destination="demo/backend",code="200"} 1000
weft_requests_total{direction="inbound",destination="demo/backend",code="503"} 10
weft_requests_total{direction="outbound",destination="db:5432",code="200"} 5
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="0.01"} 0
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="0.1"} 1000
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="+Inf"} 1010
weft_inbound_requests_by_peer_total{peer="spiffe://cluster.local/ns/demo/sa/frontend"} 600
weft_inbound_requests_by_peer_total{peer=""} 410
)");
  auto after = parse(R"(
weft_requests_total{direction="inbound",destination="demo/backend",code="200"} 1180
weft_requests_total{direction="inbound",destination="demo/backend",code="503"} 30
weft_requests_total{direction="inbound",destination="demo/other",code="404"} 0
weft_requests_total{direction="outbound",destination="db:5432",code="200"} 45
weft_requests_total{direction="outbound",destination="db:5432",code="502"} 10
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="0.01"} 100
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="0.1"} 1200
weft_request_duration_seconds_bucket{direction="inbound",destination="demo/backend",le="+Inf"} 1210
weft_inbound_requests_by_peer_total{peer="spiffe://cluster.local/ns/demo/sa/frontend"} 750
weft_inbound_requests_by_peer_total{peer=""} 460
)");
  Golden g = golden(increase(before, after), 2.0);
  // Inbound: 180 + 20 requests in 2 s.
  EXPECT_DOUBLE_EQ(g.inbound.requests, 200);
  EXPECT_DOUBLE_EQ(g.inbound.rps, 100);
  EXPECT_DOUBLE_EQ(*g.inbound.successRate, 0.9);
  // 100 of 200 within 10 ms: the median is the bound; p99 is interpolated in (0.01, 0.1].
  EXPECT_NEAR(*g.inbound.p50, 0.01, 1e-12);
  EXPECT_NEAR(*g.inbound.p99, 0.01 + 0.09 * (198 - 100) / 100.0, 1e-12);
  EXPECT_DOUBLE_EQ(g.outbound.rps, 25);
  EXPECT_DOUBLE_EQ(*g.outbound.successRate, 0.8);
  EXPECT_FALSE(g.outbound.p50.has_value()) << "no outbound histogram in this window";
  EXPECT_DOUBLE_EQ(*g.mtlsShare, 0.75);
}

TEST(GoldenTest, AnIdleWindowHasNoRatiosOnlyZeroRates) {
  auto same = parse(R"(
weft_requests_total{direction="inbound",destination="d",code="200"} 7
weft_inbound_requests_by_peer_total{peer=""} 7
)");
  Golden g = golden(increase(same, same), 1.0);
  EXPECT_EQ(g.inbound.rps, 0);
  EXPECT_FALSE(g.inbound.successRate.has_value());
  EXPECT_FALSE(g.inbound.p99.has_value());
  EXPECT_FALSE(g.mtlsShare.has_value());
}

}  // namespace
}  // namespace weft::cli
