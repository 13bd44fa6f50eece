// Tests for SeededRandom and Random's bounded helpers.
#include "proxy/src/resilience/random.h"

#include <array>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

// Returns a fixed sequence, to pin down edge cases of the helpers.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::uint64_t value) : value_(value) {}
  std::uint64_t next() override { return value_; }

 private:
  std::uint64_t value_;
};

TEST(SeededRandomTest, SameSeedSameSequenceDifferentSeedDifferent) {
  SeededRandom a(42);
  SeededRandom b(42);
  SeededRandom c(43);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    same += x == c.next() ? 1 : 0;
  }
  EXPECT_EQ(same, 0);
}

TEST(SeededRandomTest, UniformStaysInRangeAndIsEven) {
  SeededRandom random(7);
  EXPECT_EQ(random.uniform(0), 0u);
  EXPECT_EQ(random.uniform(1), 0u);
  std::array<int, 10> bins{};
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const auto v = random.uniform(10);
    ASSERT_LT(v, 10u);
    ++bins[v];
  }
  for (int count : bins) {
    EXPECT_NEAR(count, kDraws / 10, kDraws / 10 * 0.05);
  }
}

TEST(SeededRandomTest, UniformWithHugeBoundStaysInRange) {
  SeededRandom random(9);
  const std::uint64_t bound = std::numeric_limits<std::uint64_t>::max() / 2 + 7;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_LT(random.uniform(bound), bound);
  }
}

TEST(SeededRandomTest, UnitIsHalfOpen) {
  ScriptedRandom top(std::numeric_limits<std::uint64_t>::max());
  EXPECT_LT(top.unit(), 1.0);
  ScriptedRandom bottom(0);
  EXPECT_EQ(bottom.unit(), 0.0);
  SeededRandom random(3);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = random.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(SeededRandomTest, ChanceHonoursPercentAndClamps) {
  SeededRandom random(11);
  int hits = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_FALSE(random.chance(0));
    ASSERT_FALSE(random.chance(-5));
    ASSERT_FALSE(random.chance(std::nan("")));
    ASSERT_TRUE(random.chance(100));
    ASSERT_TRUE(random.chance(250));
    hits += random.chance(25) ? 1 : 0;
  }
  EXPECT_NEAR(hits, 5000, 300);
}

}  // namespace
}  // namespace weft::proxy::resilience
