// Tests for reconnect backoff: growth, cap, jitter bounds, reset.
#include "proxy/src/discovery/backoff.h"

#include <set>

#include <gtest/gtest.h>

namespace weft::proxy::discovery {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsExponentiallyWithJitterUpToTheCap) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Backoff b(milliseconds(100), milliseconds(1000), seed);
    const std::int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (std::int64_t ceiling : ceilings) {
      auto d = b.next().count();
      EXPECT_GE(d, ceiling / 2);
      EXPECT_LE(d, ceiling);
    }
  }
}

TEST(BackoffTest, JitterSpreadsReconnects) {
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(1000), seed);
    seen.insert(b.next().count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffTest, ResetStartsOverAndLongOutagesDoNotOverflow) {
  Backoff b(milliseconds(10), milliseconds(30000), 1);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LE(b.next().count(), 30000);
  }
  EXPECT_EQ(b.failures(), 10000);
  b.reset();
  EXPECT_LE(b.next().count(), 10);
}

}  // namespace
}  // namespace weft::proxy::discovery
