// Tests for smooth weighted round robin.
#include "proxy/src/lb/round_robin.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::lb {
namespace {

class RoundRobinTest : public ::testing::Test {
 protected:
  std::string next(std::span<const std::string> exclude = {}) {
    auto handle = lb_.pick(exclude);
    EXPECT_TRUE(handle.ok());
    return handle.ok() ? handle->address() : std::string();
  }
  std::vector<std::string> sequence(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(next());
    }
    return out;
  }

  FakeClock clock_;
  resilience::SeededRandom random_{1};
  RoundRobinBalancer lb_{BalancerSettings{}, clock_, random_};
};

TEST_F(RoundRobinTest, EqualWeightsRotate) {
  const std::vector<Endpoint> eps{{"a", 1, true}, {"b", 1, true}, {"c", 1, true}};
  lb_.update(eps);
  EXPECT_EQ(sequence(6), (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_F(RoundRobinTest, SmoothWeightedSequenceMatchesNginx) {
  const std::vector<Endpoint> eps{{"a", 5, true}, {"b", 1, true}, {"c", 1, true}};
  lb_.update(eps);
  EXPECT_EQ(sequence(7), (std::vector<std::string>{"a", "a", "b", "a", "c", "a", "a"}));
  EXPECT_EQ(sequence(7), (std::vector<std::string>{"a", "a", "b", "a", "c", "a", "a"}));
}

TEST_F(RoundRobinTest, ExactProportionsOverACycle) {
  const std::vector<Endpoint> eps{{"a", 3, true}, {"b", 2, true}, {"c", 0, true}, {"d", 1, true}};
  lb_.update(eps);
  std::map<std::string, int> counts;
  for (const auto& address : sequence(600)) {
    ++counts[address];
  }
  EXPECT_EQ(counts["a"], 300);
  EXPECT_EQ(counts["b"], 200);
  EXPECT_EQ(counts["c"], 0);
  EXPECT_EQ(counts["d"], 100);
}

TEST_F(RoundRobinTest, RotationSurvivesAnUnchangedUpdate) {
  const std::vector<Endpoint> eps{{"a", 1, true}, {"b", 1, true}, {"c", 1, true}};
  lb_.update(eps);
  EXPECT_EQ(next(), "a");
  EXPECT_EQ(next(), "b");
  lb_.update(eps);  // a new config snapshot with the same endpoints
  EXPECT_EQ(next(), "c");
  EXPECT_EQ(next(), "a");
}

TEST_F(RoundRobinTest, ExcludedEndpointIsSkippedWithoutBreakingTheRotation) {
  const std::vector<Endpoint> eps{{"a", 1, true}, {"b", 1, true}, {"c", 1, true}};
  lb_.update(eps);
  const std::vector<std::string> notB{"b"};
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(next(notB), "b");
  }
  std::map<std::string, int> counts;
  for (const auto& address : sequence(300)) {
    ++counts[address];
  }
  EXPECT_EQ(counts["a"], 100);
  EXPECT_EQ(counts["b"], 100);
  EXPECT_EQ(counts["c"], 100);
}

}  // namespace
}  // namespace weft::proxy::lb
