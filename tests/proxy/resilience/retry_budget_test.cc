// Tests for the retry budget: arithmetic, the floor, and the sliding window.
#include "proxy/src/resilience/retry_budget.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int withdrawAll(RetryBudget& budget, int limit = 100000) {
  int taken = 0;
  while (taken < limit && budget.tryWithdraw()) {
    ++taken;
  }
  return taken;
}

TEST(RetryBudgetTest, FloorAllowsMinPerSecondTimesWindowWithoutTraffic) {
  FakeClock clock;
  RetryBudget budget({0.2, 10, seconds(10)}, clock);
  EXPECT_DOUBLE_EQ(budget.available(), 100.0);
  EXPECT_EQ(withdrawAll(budget), 100);
  EXPECT_FALSE(budget.tryWithdraw());
}

TEST(RetryBudgetTest, RatioOfDeposits) {
  FakeClock clock;
  RetryBudget budget({0.2, 0, seconds(10)}, clock);
  EXPECT_FALSE(budget.tryWithdraw());
  for (int i = 0; i < 5; ++i) {
    budget.deposit();
  }
  // 0.2 * 5 is exactly one retry despite floating point.
  EXPECT_EQ(withdrawAll(budget), 1);
  for (int i = 0; i < 10; ++i) {
    budget.deposit();
  }
  EXPECT_NEAR(budget.available(), 2.0, 1e-9);  // 0.2 * 15 - 1
  EXPECT_EQ(withdrawAll(budget), 2);
  budget.deposit();
  budget.deposit();
  EXPECT_FALSE(budget.tryWithdraw());  // 0.2 * 17 = 3.4, three taken
}

TEST(RetryBudgetTest, FractionalFloor) {
  FakeClock clock;
  RetryBudget budget({0.0, 0.5, seconds(10)}, clock);  // one retry every 2 s
  EXPECT_EQ(withdrawAll(budget), 5);
}

TEST(RetryBudgetTest, RatioPlusFloor) {
  FakeClock clock;
  RetryBudget budget({0.2, 10, seconds(10)}, clock);
  for (int i = 0; i < 50; ++i) {
    budget.deposit();
  }
  EXPECT_NEAR(budget.available(), 110.0, 1e-9);
  EXPECT_EQ(withdrawAll(budget), 110);
}

TEST(RetryBudgetTest, OldDepositsAndWithdrawalsLeaveTheWindow) {
  FakeClock clock;
  RetryBudget budget({0.5, 0, seconds(10)}, clock);
  for (int i = 0; i < 10; ++i) {
    budget.deposit();
  }
  clock.advance(seconds(5));
  for (int i = 0; i < 10; ++i) {
    budget.deposit();
  }
  EXPECT_EQ(withdrawAll(budget), 10);  // 0.5 * 20
  // The first 10 deposits age out; the 10 withdrawals (at t=5 s) remain.
  clock.advance(milliseconds(5500));
  EXPECT_NEAR(budget.available(), 0.5 * 10 - 10, 1e-9);
  EXPECT_FALSE(budget.tryWithdraw());
  // Everything ages out: back to empty.
  clock.advance(seconds(10));
  EXPECT_NEAR(budget.available(), 0.0, 1e-9);
  budget.deposit();
  budget.deposit();
  EXPECT_EQ(withdrawAll(budget), 1);
}

TEST(RetryBudgetTest, LongIdleGapResetsEverything) {
  FakeClock clock;
  RetryBudget budget({0.2, 1, seconds(10)}, clock);
  EXPECT_EQ(withdrawAll(budget), 10);
  clock.advance(std::chrono::hours(5));
  EXPECT_EQ(withdrawAll(budget), 10);
}

// Scenario: every request fails and wants a retry. Over a minute of steady
// traffic, retries stay within ratio * requests + floor for every window.
TEST(RetryBudgetTest, RetriesNeverAmplifyAnOutage) {
  FakeClock clock;
  RetryBudget budget({0.2, 10, seconds(10)}, clock);
  int requests = 0;
  int retries = 0;
  for (int i = 0; i < 60000; ++i) {  // 1000 requests/s for 60 s
    budget.deposit();
    ++requests;
    if (budget.tryWithdraw()) {
      ++retries;
    }
    clock.advance(milliseconds(1));
  }
  // 20 % of the requests plus the floor of 10/s; slack for the first window
  // and the window's 1 s steps.
  EXPECT_LE(retries, static_cast<int>(0.2 * requests) + 10 * 60 + 300);
  EXPECT_GE(retries, static_cast<int>(0.2 * requests));
  EXPECT_LT(retries, requests / 4);
}

TEST(RetryBudgetTest, ValidateAndClamp) {
  EXPECT_TRUE(validate(RetryBudgetSettings{}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{-0.1, 10, seconds(10)}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{std::nan(""), 10, seconds(10)}).ok());
  EXPECT_FALSE(
      validate(RetryBudgetSettings{std::numeric_limits<double>::infinity(), 10, seconds(10)}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{0.2, 10, seconds(0)}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{0.2, 2'000'000, seconds(10)}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{0.2, -1, seconds(10)}).ok());
  EXPECT_FALSE(validate(RetryBudgetSettings{0.2, std::nan(""), seconds(10)}).ok());
  // Unvalidated nonsense is clamped, not trusted.
  FakeClock clock;
  RetryBudget budget({std::nan(""), 0, seconds(0)}, clock);
  budget.deposit();
  EXPECT_FALSE(budget.tryWithdraw());
  EXPECT_EQ(budget.settings().window, seconds(1));
}

}  // namespace
}  // namespace weft::proxy::resilience
