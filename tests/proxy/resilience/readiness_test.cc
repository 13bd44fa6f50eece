// Tests for the "no ready endpoint since" tracker behind fail-fast.
#include "proxy/src/resilience/readiness.h"

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ReadinessTrackerTest, WaitsThreeSecondsThenFailsFast) {
  FakeClock clock;
  ReadinessTracker tracker(clock);
  EXPECT_FALSE(tracker.hasReady());
  EXPECT_EQ(tracker.noneReadySince(), clock.now());
  EXPECT_FALSE(tracker.failFast());
  EXPECT_EQ(tracker.waitBudget(), seconds(3));
  clock.advance(milliseconds(2999));
  EXPECT_FALSE(tracker.failFast());
  EXPECT_EQ(tracker.waitBudget(), milliseconds(1));
  clock.advance(milliseconds(1));
  EXPECT_TRUE(tracker.failFast());
  EXPECT_EQ(tracker.waitBudget(), Clock::Duration::zero());
}

TEST(ReadinessTrackerTest, ReadyEndpointClearsAndLosingItRestartsTheClock) {
  FakeClock clock;
  ReadinessTracker tracker(clock);
  clock.advance(seconds(10));
  tracker.update(2);
  EXPECT_TRUE(tracker.hasReady());
  EXPECT_FALSE(tracker.failFast());
  EXPECT_EQ(tracker.waitBudget(), Clock::Duration::zero());
  clock.advance(seconds(1));
  tracker.update(0);
  const auto since = clock.now();
  EXPECT_FALSE(tracker.failFast());
  clock.advance(seconds(2));
  tracker.update(0);  // still none: the clock keeps running from the first loss
  EXPECT_EQ(tracker.noneReadySince(), since);
  clock.advance(seconds(1));
  EXPECT_TRUE(tracker.failFast());
}

TEST(ReadinessTrackerTest, CustomThreshold) {
  FakeClock clock;
  ReadinessTracker immediate(clock, Clock::Duration::zero());
  EXPECT_TRUE(immediate.failFast());
  ReadinessTracker negative(clock, seconds(-5));
  EXPECT_TRUE(negative.failFast());
}

}  // namespace
}  // namespace weft::proxy::resilience
