// Token bucket arithmetic with explicit time.
#include "common/kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace weft::kube {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, BurstThenOneTokenPerInterval) {
  auto t0 = TokenBucket::Clock::now();
  TokenBucket bucket(10, 3, t0);
  EXPECT_EQ(bucket.reserve(t0), 0ns);
  EXPECT_EQ(bucket.reserve(t0), 0ns);
  EXPECT_EQ(bucket.reserve(t0), 0ns);
  // Empty: each further request waits another 100 ms.
  EXPECT_EQ(bucket.reserve(t0), 100ms);
  EXPECT_EQ(bucket.reserve(t0), 200ms);
  // 500 ms later 5 tokens came back; 2 were owed, so 3 remain... minus this one.
  EXPECT_EQ(bucket.reserve(t0 + 500ms), 0ns);
  EXPECT_EQ(bucket.reserve(t0 + 500ms), 0ns);
  EXPECT_EQ(bucket.reserve(t0 + 500ms), 0ns);
  EXPECT_EQ(bucket.reserve(t0 + 500ms), 100ms);
}

TEST(TokenBucketTest, IdleTimeRefillsOnlyUpToTheBurst) {
  auto t0 = TokenBucket::Clock::now();
  TokenBucket bucket(2, 2, t0);
  EXPECT_EQ(bucket.reserve(t0), 0ns);
  EXPECT_EQ(bucket.reserve(t0), 0ns);
  auto later = t0 + 1h;
  EXPECT_EQ(bucket.reserve(later), 0ns);
  EXPECT_EQ(bucket.reserve(later), 0ns);
  EXPECT_EQ(bucket.reserve(later), 500ms);
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  auto t0 = TokenBucket::Clock::now();
  TokenBucket bucket(0, 1, t0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(bucket.reserve(t0), 0ns);
  }
}

}  // namespace
}  // namespace weft::kube
