// The load generator's latency histogram: quantiles within its precision.
#include "examples/sample/latency.h"

#include <random>

#include <gtest/gtest.h>

namespace weft::sample {
namespace {

using std::chrono::microseconds;

TEST(LatencyHistogramTest, EmptyHasNoQuantiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantileMs(0.5), 0);
  EXPECT_EQ(h.meanMs(), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int us : {10, 20, 30, 40, 100}) {
    h.record(microseconds(us));
  }
  EXPECT_DOUBLE_EQ(h.quantileMs(0.5), 0.030);
  EXPECT_DOUBLE_EQ(h.quantileMs(0.8), 0.040);
  EXPECT_DOUBLE_EQ(h.quantileMs(1.0), 0.100);
  EXPECT_DOUBLE_EQ(h.meanMs(), 0.040);
}

TEST(LatencyHistogramTest, QuantilesOfAUniformSpreadAreWithinPrecision) {
  LatencyHistogram h;
  for (int ms = 1; ms <= 1000; ++ms) {
    h.record(microseconds(ms * 1000));
  }
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.quantileMs(0.5), 500, 500 * 0.016);
  EXPECT_NEAR(h.quantileMs(0.99), 990, 990 * 0.016);
  EXPECT_GE(h.quantileMs(0.99), 990) << "a quantile never understates";
  EXPECT_DOUBLE_EQ(h.quantileMs(1.0), 1000) << "capped at the largest value seen";
  EXPECT_DOUBLE_EQ(h.maxMs(), 1000);
  EXPECT_NEAR(h.meanMs(), 500.5, 1e-9);
}

TEST(LatencyHistogramTest, MergingEqualsRecordingInOne) {
  std::mt19937 rng(7);
  std::exponential_distribution<> dist(1.0 / 20000);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    auto v = microseconds(static_cast<std::int64_t>(dist(rng)));
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    EXPECT_DOUBLE_EQ(a.quantileMs(q), all.quantileMs(q)) << q;
  }
  EXPECT_DOUBLE_EQ(a.maxMs(), all.maxMs());
}

TEST(LatencyHistogramTest, HugeAndNegativeValuesStayInRange) {
  LatencyHistogram h;
  h.record(microseconds(-5));
  h.record(std::chrono::hours(10000));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.quantileMs(0.5), 0);
  EXPECT_GT(h.quantileMs(1.0), 0);
}

}  // namespace
}  // namespace weft::sample
