// Randomised churn: endpoint updates, picks, results and time in any order keep the invariants.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/src/lb/load_balancer.h"

namespace weft::proxy::lb {
namespace {

using std::chrono::milliseconds;

class ChurnTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(ChurnTest, InvariantsHoldUnderRandomChurn) {
  FakeClock clock;
  resilience::SeededRandom random(77);
  resilience::SeededRandom script(static_cast<std::uint64_t>(GetParam()) + 1);
  BalancerSettings settings;
  settings.algorithm = GetParam();
  settings.outliers.consecutiveFailures = 2;
  settings.outliers.baseEjection = milliseconds(500);
  auto lb = makeLoadBalancer(settings, clock, random);

  std::vector<Endpoint> current;
  std::vector<EndpointHandle> inFlight;
  for (int step = 0; step < 20000; ++step) {
    const auto op = script.uniform(100);
    if (op < 5) {  // a new endpoint set drawn from 8 addresses
      current.clear();
      for (int i = 0; i < 8; ++i) {
        if (script.chance(60)) {
          current.push_back({"10.0.0." + std::to_string(i) + ":80",
                             static_cast<std::uint32_t>(script.uniform(4)), script.chance(80)});
        }
      }
      lb->update(current);
    } else if (op < 55) {
      std::vector<std::string> exclude;
      if (script.chance(30) && !current.empty()) {
        exclude.push_back(current[script.uniform(current.size())].address);
      }
      auto handle = lb->pick(exclude);
      if (!handle.ok()) {
        ASSERT_EQ(lb->readyCount(), 0u);
        continue;
      }
      // Only ready endpoints with weight get traffic.
      bool eligible = false;
      for (const auto& ep : current) {
        eligible |= ep.address == handle->address() && ep.ready && ep.weight > 0;
      }
      ASSERT_TRUE(eligible) << handle->address();
      inFlight.push_back(std::move(*handle));
    } else if (op < 90 && !inFlight.empty()) {
      const auto index = script.uniform(inFlight.size());
      const auto which = script.uniform(4);
      if (which < 3) {
        inFlight[index].complete(which == 0   ? Outcome::kFailure
                                 : which == 1 ? Outcome::kConnectFailure
                                              : Outcome::kSuccess);
      }  // else: dropped, as a cancelled request
      inFlight.erase(inFlight.begin() + static_cast<std::ptrdiff_t>(index));
    } else {
      clock.advance(milliseconds(script.uniform(200)));
    }
    // A shrinking set may leave more than half ejected (panic covers that);
    // the count itself must stay consistent.
    ASSERT_LE(lb->outliers().ejectedCount(), lb->outliers().size());
  }
  inFlight.clear();
  EXPECT_GT(lb->outliers().ejectionsTotal(), 0u);  // the run did exercise ejection
  for (const auto& ep : current) {
    EXPECT_EQ(lb->outstanding(ep.address), 0u) << ep.address;
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, ChurnTest,
                         ::testing::Values(Algorithm::kP2cEwma, Algorithm::kRoundRobin,
                                           Algorithm::kLeastRequest));

}  // namespace
}  // namespace weft::proxy::lb
