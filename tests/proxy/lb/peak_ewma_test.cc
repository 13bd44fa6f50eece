// Tests for the peak-EWMA latency estimate.
#include "proxy/src/lb/peak_ewma.h"

#include <cmath>

#include <gtest/gtest.h>

namespace weft::proxy::lb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kMs = 1e6;  // nanoseconds per millisecond

TEST(PeakEwmaTest, StartsAtTheInitialEstimate) {
  FakeClock clock;
  PeakEwma ewma(seconds(10), milliseconds(30), clock.now());
  EXPECT_DOUBLE_EQ(ewma.estimateNanos(clock.now()), 30 * kMs);
}

TEST(PeakEwmaTest, JumpsUpAtOnceOnAHigherSample) {
  FakeClock clock;
  PeakEwma ewma(seconds(10), milliseconds(30), clock.now());
  clock.advance(milliseconds(1));
  ewma.observe(milliseconds(500), clock.now());
  EXPECT_DOUBLE_EQ(ewma.estimateNanos(clock.now()), 500 * kMs);
}

TEST(PeakEwmaTest, BlendsALowerSampleByElapsedTime) {
  FakeClock clock;
  PeakEwma ewma(seconds(10), milliseconds(100), clock.now());
  clock.advance(seconds(10));  // one time constant: weight of the old value e^-1
  ewma.observe(milliseconds(10), clock.now());
  const double w = std::exp(-1.0);
  EXPECT_NEAR(ewma.estimateNanos(clock.now()), 100 * kMs * w + 10 * kMs * (1 - w), 1.0);
  // A lower sample at the same instant carries no weight (tower semantics).
  ewma.observe(milliseconds(1), clock.now());
  EXPECT_NEAR(ewma.estimateNanos(clock.now()), 100 * kMs * w + 10 * kMs * (1 - w), 1.0);
  // A short gap moves it a little: 1 s is 1 - e^-0.1 of the way.
  const double before = ewma.estimateNanos(clock.now());
  clock.advance(seconds(1));
  ewma.observe(milliseconds(10), clock.now());
  const double w1 = std::exp(-0.1);
  EXPECT_NEAR(ewma.estimateNanos(clock.now()), before * w1 + 10 * kMs * (1 - w1), 1.0);
}

TEST(PeakEwmaTest, DecaysTowardsZeroWhileIdle) {
  FakeClock clock;
  PeakEwma ewma(seconds(10), milliseconds(1000), clock.now());
  EXPECT_NEAR(ewma.estimateNanos(clock.now() + seconds(10)), 1000 * kMs * std::exp(-1.0), 1.0);
  EXPECT_NEAR(ewma.estimateNanos(clock.now() + seconds(30)), 1000 * kMs * std::exp(-3.0), 1.0);
  // Reading does not change the estimate.
  EXPECT_DOUBLE_EQ(ewma.estimateNanos(clock.now()), 1000 * kMs);
  // A clock that reads earlier than the last sample does not inflate it.
  EXPECT_DOUBLE_EQ(ewma.estimateNanos(clock.now() - seconds(5)), 1000 * kMs);
}

TEST(PeakEwmaTest, ConvergesToASteadyLatency) {
  FakeClock clock;
  PeakEwma ewma(seconds(10), milliseconds(30), clock.now());
  for (int i = 0; i < 1000; ++i) {  // 100 s of 5 ms responses, every 100 ms
    clock.advance(milliseconds(100));
    ewma.observe(milliseconds(5), clock.now());
  }
  EXPECT_NEAR(ewma.estimateNanos(clock.now()), 5 * kMs, 0.01 * kMs);
}

}  // namespace
}  // namespace weft::proxy::lb
