// Tests for power-of-two-choices over peak-EWMA cost and over outstanding requests.
#include "proxy/src/lb/p2c.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::lb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kMs = 1e6;

class P2cTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  resilience::SeededRandom random_{99};
  P2cBalancer ewma_{P2cBalancer::Cost::kPeakEwma, BalancerSettings{}, clock_, random_};
  P2cBalancer least_{P2cBalancer::Cost::kOutstanding, BalancerSettings{}, clock_, random_};

  // Sends one request to `address` (forcing it with exclude) taking `rtt`.
  void serve(P2cBalancer& lb, const std::string& address, Clock::Duration rtt,
             Outcome outcome = Outcome::kSuccess) {
    std::vector<std::string> others;
    for (const auto& ep : endpoints_) {
      if (ep.address != address) {
        others.push_back(ep.address);
      }
    }
    auto handle = lb.pick(others);
    ASSERT_TRUE(handle.ok());
    ASSERT_EQ(handle->address(), address);
    clock_.advance(rtt);
    handle->complete(outcome);
  }

  std::map<std::string, int> spread(P2cBalancer& lb, int n) {
    std::map<std::string, int> counts;
    for (int i = 0; i < n; ++i) {
      auto handle = lb.pick();
      EXPECT_TRUE(handle.ok());
      ++counts[handle->address()];
    }  // handles complete (cancel) at once: no latency recorded
    return counts;
  }

  std::vector<Endpoint> endpoints_{{"a:1", 1, true}, {"b:1", 1, true}, {"c:1", 1, true}};
};

TEST_F(P2cTest, CostIsEstimateTimesOutstandingPlusOne) {
  ewma_.update(endpoints_);
  // A newcomer costs the default RTT (30 ms), not zero.
  EXPECT_DOUBLE_EQ(ewma_.costOf("a:1"), 30 * kMs);
  const std::vector<std::string> notA{"b:1", "c:1"};
  auto h1 = ewma_.pick(notA);
  auto h2 = ewma_.pick(notA);
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_DOUBLE_EQ(ewma_.costOf("a:1"), 30 * kMs * 3);
  EXPECT_DOUBLE_EQ(ewma_.costOf("unknown:1"), 0.0);
}

TEST_F(P2cTest, SlowestOfThreeIsNeverChosen) {
  ewma_.update(endpoints_);
  for (int i = 0; i < 20; ++i) {
    serve(ewma_, "a:1", milliseconds(5));
    serve(ewma_, "b:1", milliseconds(20));
    serve(ewma_, "c:1", milliseconds(100));
  }
  auto counts = spread(ewma_, 3000);
  EXPECT_EQ(counts.count("c:1"), 0u);  // any pair holding c has a cheaper one
  EXPECT_GT(counts["a:1"], counts["b:1"]);
  // a wins every pair it is drawn in: 2 of 3 pairs.
  EXPECT_NEAR(counts["a:1"], 2000, 150);
}

TEST_F(P2cTest, OutstandingRequestsOutweighLatency) {
  const std::vector<Endpoint> two{{"a:1", 1, true}, {"b:1", 1, true}};
  endpoints_ = two;
  ewma_.update(two);
  serve(ewma_, "a:1", milliseconds(10));   // a: 30 ms -> blended below 30
  serve(ewma_, "b:1", milliseconds(100));  // b: jumps to 100 ms
  std::vector<EndpointHandle> held;
  int toA = 0;
  for (int i = 0; i < 40; ++i) {
    auto handle = ewma_.pick();
    ASSERT_TRUE(handle.ok());
    toA += handle->address() == "a:1" ? 1 : 0;
    held.push_back(std::move(*handle));
  }
  // a takes requests until ewma_a * (n + 1) exceeds b's cost, then b gets some.
  EXPECT_GT(toA, 1);
  EXPECT_LT(toA, 40);
  EXPECT_GT(ewma_.outstanding("b:1"), 0u);
}

TEST_F(P2cTest, PeakSensitiveOneSlowResponseMovesTrafficAtOnce) {
  const std::vector<Endpoint> two{{"a:1", 1, true}, {"b:1", 1, true}};
  endpoints_ = two;
  ewma_.update(two);
  for (int i = 0; i < 50; ++i) {
    serve(ewma_, "a:1", milliseconds(5));
    serve(ewma_, "b:1", milliseconds(10));
  }
  EXPECT_EQ(spread(ewma_, 100)["a:1"], 100);
  serve(ewma_, "a:1", milliseconds(500));
  EXPECT_NEAR(ewma_.costOf("a:1"), 500 * kMs, 1.0);
  EXPECT_EQ(spread(ewma_, 100)["b:1"], 100);
}

TEST_F(P2cTest, PenalisedEndpointRecoversAsItsEstimateDecays) {
  const std::vector<Endpoint> two{{"a:1", 1, true}, {"b:1", 1, true}};
  endpoints_ = two;
  ewma_.update(two);
  serve(ewma_, "a:1", milliseconds(1), Outcome::kConnectFailure);  // 1 s penalty
  EXPECT_NEAR(ewma_.costOf("a:1"), 1000 * kMs, 1.0);
  // b keeps serving at 20 ms; a decays from 1 s with a 10 s time constant and
  // wins again once below 20 ms: after about 10 * ln(50) = 39 s.
  Clock::Duration waited{};
  bool recovered = false;
  for (int i = 0; i < 1000 && !recovered; ++i) {  // at most 100 s of simulated time
    auto handle = ewma_.pick();
    ASSERT_TRUE(handle.ok());
    recovered = handle->address() == "a:1";
    clock_.advance(milliseconds(20));
    handle->complete(Outcome::kSuccess);
    clock_.advance(milliseconds(80));
    waited += milliseconds(100);
  }
  EXPECT_TRUE(recovered);
  EXPECT_GT(waited, seconds(35));
  EXPECT_LT(waited, seconds(45));
}

TEST_F(P2cTest, WeightsSetTheSplitWhenCostsAreEqual) {
  const std::vector<Endpoint> weighted{{"a:1", 3, true}, {"b:1", 1, true}};
  ewma_.update(weighted);
  auto counts = spread(ewma_, 10000);
  EXPECT_NEAR(counts["a:1"], 7500, 300);
  least_.update(weighted);
  counts = spread(least_, 10000);
  EXPECT_NEAR(counts["a:1"], 7500, 300);
}

TEST_F(P2cTest, LeastRequestPrefersFewerOutstanding) {
  least_.update(endpoints_);
  std::vector<EndpointHandle> held;
  for (int i = 0; i < 30; ++i) {
    auto handle = least_.pick();
    ASSERT_TRUE(handle.ok());
    held.push_back(std::move(*handle));
  }
  // Two choices keep the spread tight: no endpoint runs far ahead.
  for (const auto& ep : endpoints_) {
    EXPECT_GE(least_.outstanding(ep.address), 7u) << ep.address;
    EXPECT_LE(least_.outstanding(ep.address), 13u) << ep.address;
  }
  EXPECT_DOUBLE_EQ(least_.costOf("a:1"), static_cast<double>(least_.outstanding("a:1")));
}

TEST_F(P2cTest, SingleCandidateIsAlwaysChosen) {
  const std::vector<Endpoint> one{{"a:1", 7, true}};
  ewma_.update(one);
  EXPECT_EQ(spread(ewma_, 50)["a:1"], 50);
}

}  // namespace
}  // namespace weft::proxy::lb
