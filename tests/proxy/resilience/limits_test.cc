// Tests for per-destination limits and their RAII guards.
#include "proxy/src/resilience/limits.h"

#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

TEST(LimitsTest, RefusesPastTheLimitAndCountsRejections) {
  Limits limits({100, 100, 2});
  auto a = limits.tryAcquire(LimitKind::kRequests);
  auto b = limits.tryAcquire(LimitKind::kRequests);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(limits.current(LimitKind::kRequests), 2u);
  EXPECT_FALSE(limits.tryAcquire(LimitKind::kRequests));
  EXPECT_FALSE(limits.tryAcquire(LimitKind::kRequests));
  EXPECT_EQ(limits.rejected(LimitKind::kRequests), 2u);
  // Other kinds are independent.
  EXPECT_TRUE(limits.tryAcquire(LimitKind::kConnections));
  EXPECT_EQ(limits.rejected(LimitKind::kConnections), 0u);
  a.reset();  // destroying the guard frees its unit
  EXPECT_EQ(limits.current(LimitKind::kRequests), 1u);
  EXPECT_TRUE(limits.tryAcquire(LimitKind::kRequests));
}

TEST(LimitsTest, GuardMovesReleaseOnce) {
  Limits limits({1, 1, 1});
  auto guard = limits.tryAcquire(LimitKind::kPendingRequests);
  ASSERT_TRUE(guard);
  LimitGuard moved = std::move(*guard);
  guard.reset();  // the moved-from guard owns nothing
  EXPECT_EQ(limits.current(LimitKind::kPendingRequests), 1u);
  LimitGuard other = std::move(*limits.tryAcquire(LimitKind::kConnections));
  other = std::move(moved);  // releases the connection unit, takes the pending one
  EXPECT_EQ(limits.current(LimitKind::kConnections), 0u);
  EXPECT_EQ(limits.current(LimitKind::kPendingRequests), 1u);
  EXPECT_EQ(other.kind(), LimitKind::kPendingRequests);
  other.release();
  other.release();
  EXPECT_EQ(limits.current(LimitKind::kPendingRequests), 0u);
}

TEST(LimitsTest, GuardMayOutliveLimits) {
  std::optional<LimitGuard> guard;
  {
    Limits limits;
    guard = limits.tryAcquire(LimitKind::kConnections);
    ASSERT_TRUE(guard);
  }
  guard.reset();  // must not touch freed memory (ASan build checks)
  SUCCEED();
}

TEST(LimitsTest, LoweringTheLimitKeepsHoldersAndRefusesNewcomers) {
  Limits limits({10, 10, 10});
  std::vector<LimitGuard> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::move(*limits.tryAcquire(LimitKind::kRequests)));
  }
  limits.setSettings({10, 10, 3});
  EXPECT_FALSE(limits.tryAcquire(LimitKind::kRequests));
  held.pop_back();
  held.pop_back();
  EXPECT_FALSE(limits.tryAcquire(LimitKind::kRequests));  // 3 held, limit 3
  held.pop_back();
  EXPECT_TRUE(limits.tryAcquire(LimitKind::kRequests));
}

TEST(LimitsTest, Validate) {
  EXPECT_TRUE(validate(LimitSettings{}).ok());
  EXPECT_FALSE(validate(LimitSettings{0, 1, 1}).ok());
  EXPECT_FALSE(validate(LimitSettings{1, 0, 1}).ok());
  EXPECT_FALSE(validate(LimitSettings{1, 1, 0}).ok());
  EXPECT_FALSE(validate(LimitSettings{1, -5, 1}).ok());
  EXPECT_TRUE(validate(LimitSettings{1, 1, 1}).ok());
}

}  // namespace
}  // namespace weft::proxy::resilience
