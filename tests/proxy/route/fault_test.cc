// Tests for fault injection decisions.
#include "proxy/src/route/fault.h"

#include <cmath>

#include <gtest/gtest.h>

namespace weft::proxy::route {
namespace {

using std::chrono::milliseconds;

TEST(FaultTest, NothingConfiguredNothingInjected) {
  resilience::SeededRandom random(1);
  for (int i = 0; i < 100; ++i) {
    const auto d = decideFault({}, random);
    EXPECT_EQ(d.delay, Clock::Duration::zero());
    EXPECT_FALSE(d.abortStatus);
  }
}

TEST(FaultTest, AlwaysAndNever) {
  resilience::SeededRandom random(2);
  const FaultSettings always{FaultDelay{milliseconds(100), 100}, FaultAbort{503, 100}};
  const FaultSettings never{FaultDelay{milliseconds(100), 0}, FaultAbort{503, 0}};
  for (int i = 0; i < 1000; ++i) {
    const auto a = decideFault(always, random);
    ASSERT_EQ(a.delay, milliseconds(100));
    ASSERT_EQ(a.abortStatus, 503);
    const auto n = decideFault(never, random);
    ASSERT_EQ(n.delay, Clock::Duration::zero());
    ASSERT_FALSE(n.abortStatus);
  }
}

TEST(FaultTest, PercentagesAreIndependent) {
  resilience::SeededRandom random(3);
  const FaultSettings settings{FaultDelay{milliseconds(100), 10}, FaultAbort{429, 5}};
  int delayed = 0;
  int aborted = 0;
  int both = 0;
  constexpr int kRequests = 40000;
  for (int i = 0; i < kRequests; ++i) {
    const auto d = decideFault(settings, random);
    const bool isDelayed = d.delay == milliseconds(100);
    delayed += isDelayed ? 1 : 0;
    aborted += d.abortStatus ? 1 : 0;
    both += isDelayed && d.abortStatus ? 1 : 0;
    if (d.abortStatus) {
      ASSERT_EQ(*d.abortStatus, 429);
    }
  }
  EXPECT_NEAR(delayed, kRequests * 0.10, kRequests * 0.01);
  EXPECT_NEAR(aborted, kRequests * 0.05, kRequests * 0.008);
  EXPECT_NEAR(both, kRequests * 0.005, kRequests * 0.003);
}

TEST(FaultTest, Validate) {
  EXPECT_TRUE(validate(FaultSettings{}).ok());
  EXPECT_TRUE(validate(FaultSettings{FaultDelay{milliseconds(5), 50}, FaultAbort{200, 0}}).ok());
  EXPECT_FALSE(validate(FaultSettings{FaultDelay{milliseconds(5), 101}, {}}).ok());
  EXPECT_FALSE(validate(FaultSettings{FaultDelay{milliseconds(5), -1}, {}}).ok());
  EXPECT_FALSE(validate(FaultSettings{FaultDelay{milliseconds(5), std::nan("")}, {}}).ok());
  EXPECT_FALSE(validate(FaultSettings{FaultDelay{milliseconds(-5), 10}, {}}).ok());
  EXPECT_FALSE(validate(FaultSettings{FaultDelay{std::chrono::hours(2), 10}, {}}).ok());
  EXPECT_FALSE(validate(FaultSettings{{}, FaultAbort{600, 10}}).ok());
  EXPECT_FALSE(validate(FaultSettings{{}, FaultAbort{199, 10}}).ok());
  EXPECT_FALSE(validate(FaultSettings{{}, FaultAbort{503, 100.5}}).ok());
}

}  // namespace
}  // namespace weft::proxy::route
