// Tests for exponential backoff with full jitter.
#include "proxy/src/resilience/backoff.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, CeilingDoublesUpToMax) {
  const BackoffSettings s{milliseconds(25), milliseconds(250)};
  EXPECT_EQ(backoffCeiling(s, 0), Clock::Duration::zero());
  EXPECT_EQ(backoffCeiling(s, 1), milliseconds(25));
  EXPECT_EQ(backoffCeiling(s, 2), milliseconds(50));
  EXPECT_EQ(backoffCeiling(s, 3), milliseconds(100));
  EXPECT_EQ(backoffCeiling(s, 4), milliseconds(200));
  EXPECT_EQ(backoffCeiling(s, 5), milliseconds(250));
  EXPECT_EQ(backoffCeiling(s, 1'000'000'000), milliseconds(250));
}

TEST(BackoffTest, CeilingNeverOverflows) {
  const BackoffSettings s{Clock::Duration(1), Clock::Duration::max()};
  EXPECT_EQ(backoffCeiling(s, 4000000000u), Clock::Duration::max());
  EXPECT_EQ(backoffCeiling(s, 11), Clock::Duration(1024));
}

TEST(BackoffTest, DelaysAreFullyJitteredBelowTheCeiling) {
  SeededRandom random(1);
  const BackoffSettings s{milliseconds(25), milliseconds(250)};
  for (std::uint32_t retry = 1; retry <= 6; ++retry) {
    const auto ceiling = backoffCeiling(s, retry);
    Clock::Duration lo = Clock::Duration::max();
    Clock::Duration hi = Clock::Duration::zero();
    for (int i = 0; i < 2000; ++i) {
      Backoff backoff(s, random);
      Clock::Duration delay{};
      for (std::uint32_t k = 0; k < retry; ++k) {
        delay = backoff.next();
      }
      ASSERT_EQ(backoff.retries(), retry);
      ASSERT_GE(delay, Clock::Duration::zero());
      ASSERT_LE(delay, ceiling);
      lo = std::min(lo, delay);
      hi = std::max(hi, delay);
    }
    // Full jitter spreads over the whole range, not just near the ceiling.
    EXPECT_LT(lo, ceiling / 10) << "retry " << retry;
    EXPECT_GT(hi, ceiling * 9 / 10) << "retry " << retry;
  }
}

TEST(BackoffTest, ResetStartsOver) {
  SeededRandom random(2);
  Backoff backoff({milliseconds(10), milliseconds(1000)}, random);
  for (int i = 0; i < 5; ++i) {
    (void)backoff.next();
  }
  backoff.reset();
  EXPECT_EQ(backoff.retries(), 0u);
  EXPECT_LE(backoff.next(), milliseconds(10));
}

TEST(BackoffTest, Validate) {
  EXPECT_TRUE(validate(BackoffSettings{}).ok());
  EXPECT_FALSE(validate(BackoffSettings{milliseconds(0), milliseconds(10)}).ok());
  EXPECT_FALSE(validate(BackoffSettings{milliseconds(-1), milliseconds(10)}).ok());
  EXPECT_FALSE(validate(BackoffSettings{milliseconds(100), milliseconds(10)}).ok());
  EXPECT_TRUE(validate(BackoffSettings{milliseconds(10), milliseconds(10)}).ok());
}

}  // namespace
}  // namespace weft::proxy::resilience
