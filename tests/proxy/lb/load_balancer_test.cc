// Tests for what every balancer shares: eligibility, exclusion, panic, handles and updates.
#include "proxy/src/lb/load_balancer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::lb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<Endpoint> three() {
  return {{"10.0.0.1:80", 1, true}, {"10.0.0.2:80", 1, true}, {"10.0.0.3:80", 1, true}};
}

class LoadBalancerTest : public ::testing::TestWithParam<Algorithm> {
 protected:
  std::unique_ptr<LoadBalancer> make(BalancerSettings settings = {}) {
    settings.algorithm = GetParam();
    return makeLoadBalancer(settings, clock_, random_);
  }
  // Picks n times (completing each at once) and counts per address.
  std::map<std::string, int> spread(LoadBalancer& lb, int n,
                                    std::span<const std::string> exclude = {}) {
    std::map<std::string, int> counts;
    for (int i = 0; i < n; ++i) {
      auto handle = lb.pick(exclude);
      EXPECT_TRUE(handle.ok());
      if (!handle.ok()) {
        break;
      }
      ++counts[handle->address()];
      handle->complete(Outcome::kSuccess);
    }
    return counts;
  }
  // Sends `n` failures to one address by excluding the others.
  void failOn(LoadBalancer& lb, const std::string& address, int n,
              const std::vector<std::string>& others) {
    for (int i = 0; i < n; ++i) {
      auto handle = lb.pick(others);
      ASSERT_TRUE(handle.ok());
      ASSERT_EQ(handle->address(), address);
      handle->complete(Outcome::kFailure);
    }
  }

  FakeClock clock_;
  resilience::SeededRandom random_{1234};
};

TEST(AlgorithmTest, ParsesTheDocumentNames) {
  for (auto a : {Algorithm::kP2cEwma, Algorithm::kRoundRobin, Algorithm::kLeastRequest}) {
    auto parsed = parseAlgorithm(toString(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  auto bad = parseAlgorithm("random");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("random"), std::string::npos);
}

TEST_P(LoadBalancerTest, NoReadyEndpointIsUnavailable) {
  auto lb = make();
  auto none = lb->pick();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kUnavailable);
  const std::vector<Endpoint> unready{{"10.0.0.1:80", 1, false}, {"10.0.0.2:80", 0, true}};
  lb->update(unready);
  EXPECT_EQ(lb->size(), 2u);
  EXPECT_EQ(lb->readyCount(), 0u);
  EXPECT_FALSE(lb->pick().ok());
}

TEST_P(LoadBalancerTest, OnlyReadyEndpointsWithWeight) {
  auto lb = make();
  const std::vector<Endpoint> eps{{"10.0.0.1:80", 1, true},
                                  {"10.0.0.2:80", 1, false},
                                  {"10.0.0.3:80", 0, true},
                                  {"10.0.0.4:80", 1, true}};
  lb->update(eps);
  EXPECT_EQ(lb->readyCount(), 2u);
  auto counts = spread(*lb, 1000);
  EXPECT_EQ(counts.count("10.0.0.2:80"), 0u);
  EXPECT_EQ(counts.count("10.0.0.3:80"), 0u);
  EXPECT_GT(counts["10.0.0.1:80"], 200);
  EXPECT_GT(counts["10.0.0.4:80"], 200);
}

TEST_P(LoadBalancerTest, ExcludeSendsARetryElsewhere) {
  auto lb = make();
  lb->update(three());
  const std::vector<std::string> tried{"10.0.0.2:80"};
  auto counts = spread(*lb, 600, tried);
  EXPECT_EQ(counts.count("10.0.0.2:80"), 0u);
  EXPECT_GT(counts["10.0.0.1:80"], 100);
  EXPECT_GT(counts["10.0.0.3:80"], 100);
  // Excluding everything is only a preference: it still picks.
  const std::vector<std::string> all{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"};
  EXPECT_TRUE(lb->pick(all).ok());
}

TEST_P(LoadBalancerTest, HandleCountsOutstandingUntilDoneOnce) {
  auto lb = make();
  const std::vector<Endpoint> one{{"10.0.0.1:80", 1, true}};
  lb->update(one);
  {
    auto a = lb->pick();
    auto b = lb->pick();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 2u);
    a->complete(Outcome::kSuccess);
    a->complete(Outcome::kSuccess);  // ignored
    EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 1u);
    EndpointHandle moved = std::move(*b);
    EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 1u);
    EXPECT_EQ(moved.address(), "10.0.0.1:80");
  }
  EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 0u);
}

TEST_P(LoadBalancerTest, HandleMayOutliveTheBalancerAndRemovedEndpoints) {
  auto lb = make();
  lb->update(three());
  auto handle = lb->pick();
  ASSERT_TRUE(handle.ok());
  const std::vector<Endpoint> none;
  lb->update(none);  // its endpoint is gone
  lb.reset();        // and so is the balancer
  handle->complete(Outcome::kFailure);
  SUCCEED();
}

TEST_P(LoadBalancerTest, UpdateKeepsStateOfUnchangedAddresses) {
  auto lb = make();
  lb->update(three());
  const std::vector<std::string> notFirst{"10.0.0.2:80", "10.0.0.3:80"};
  auto held = lb->pick(notFirst);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->address(), "10.0.0.1:80");
  // Reordered, one new, one gone, one reweighted: outstanding survives.
  const std::vector<Endpoint> next{
      {"10.0.0.4:80", 1, true}, {"10.0.0.1:80", 3, true}, {"10.0.0.2:80", 1, true}};
  lb->update(next);
  EXPECT_EQ(lb->size(), 3u);
  EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 1u);
  held->complete(Outcome::kSuccess);
  EXPECT_EQ(lb->outstanding("10.0.0.1:80"), 0u);
  auto counts = spread(*lb, 300);
  EXPECT_EQ(counts.count("10.0.0.3:80"), 0u);
  EXPECT_GT(counts["10.0.0.4:80"], 0);
}

TEST_P(LoadBalancerTest, DuplicateAddressesFirstWins) {
  auto lb = make();
  const std::vector<Endpoint> dup{{"10.0.0.1:80", 1, true}, {"10.0.0.1:80", 5, false}};
  lb->update(dup);
  EXPECT_EQ(lb->size(), 1u);
  EXPECT_EQ(lb->readyCount(), 1u);
}

TEST_P(LoadBalancerTest, EjectedEndpointIsRoutedAround) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 3;
  auto lb = make(settings);
  lb->update(three());
  failOn(*lb, "10.0.0.1:80", 3, {"10.0.0.2:80", "10.0.0.3:80"});
  EXPECT_TRUE(lb->outliers().isEjected("10.0.0.1:80"));
  auto counts = spread(*lb, 300);
  EXPECT_EQ(counts.count("10.0.0.1:80"), 0u);
  EXPECT_EQ(lb->panics(), 0u);
}

TEST_P(LoadBalancerTest, ProbeAfterEjectionThenBackInRotation) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 2;
  settings.outliers.baseEjection = seconds(10);
  auto lb = make(settings);
  lb->update(three());
  failOn(*lb, "10.0.0.1:80", 2, {"10.0.0.2:80", "10.0.0.3:80"});
  clock_.advance(seconds(10));
  // Exactly one request reaches it as the probe while the probe is out.
  std::optional<EndpointHandle> probe;
  std::vector<EndpointHandle> others;
  for (int i = 0; i < 300; ++i) {
    auto handle = lb->pick();
    ASSERT_TRUE(handle.ok());
    if (handle->address() == "10.0.0.1:80") {
      ASSERT_FALSE(probe.has_value()) << "second request to a probing endpoint";
      EXPECT_TRUE(handle->isProbe());
      probe.emplace(std::move(*handle));
    } else {
      EXPECT_FALSE(handle->isProbe());
      handle->complete(Outcome::kSuccess);
    }
  }
  ASSERT_TRUE(probe.has_value());
  probe->complete(Outcome::kSuccess);
  EXPECT_FALSE(lb->outliers().isEjected("10.0.0.1:80"));
  auto counts = spread(*lb, 300);
  EXPECT_GT(counts["10.0.0.1:80"], 0);
}

TEST_P(LoadBalancerTest, CancelledProbeFreesTheSlot) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 1;
  auto lb = make(settings);
  lb->update(three());
  failOn(*lb, "10.0.0.1:80", 1, {"10.0.0.2:80", "10.0.0.3:80"});
  clock_.advance(seconds(30));
  const std::vector<std::string> others{"10.0.0.2:80", "10.0.0.3:80"};
  {
    auto probe = lb->pick(others);
    ASSERT_TRUE(probe.ok());
    ASSERT_EQ(probe->address(), "10.0.0.1:80");
    EXPECT_TRUE(probe->isProbe());
  }  // dropped without a result
  auto again = lb->pick(others);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->address(), "10.0.0.1:80");
  EXPECT_TRUE(again->isProbe());
  again->complete(Outcome::kFailure);  // back out, for longer
  EXPECT_EQ(lb->outliers().ejectedUntil("10.0.0.1:80") - clock_.now(), seconds(60));
}

TEST_P(LoadBalancerTest, PanicUsesAllWhenMostAreEjected) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 1;
  settings.outliers.maxEjectionPercent = 100;  // let the detector eject 2 of 3
  auto lb = make(settings);
  lb->update(three());
  failOn(*lb, "10.0.0.1:80", 1, {"10.0.0.2:80", "10.0.0.3:80"});
  failOn(*lb, "10.0.0.2:80", 1, {"10.0.0.1:80", "10.0.0.3:80"});
  EXPECT_EQ(lb->outliers().ejectedCount(), 2u);
  // 2 of 3 is over the 50 % panic threshold: everything is used again.
  auto counts = spread(*lb, 600);
  EXPECT_GT(counts["10.0.0.1:80"], 50);
  EXPECT_GT(counts["10.0.0.2:80"], 50);
  EXPECT_GT(lb->panics(), 0u);
}

TEST_P(LoadBalancerTest, EjectedEndpointsStillComeBackDuringPanic) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 1;
  settings.outliers.maxEjectionPercent = 100;
  auto lb = make(settings);
  lb->update(three());
  failOn(*lb, "10.0.0.1:80", 1, {"10.0.0.2:80", "10.0.0.3:80"});
  failOn(*lb, "10.0.0.2:80", 1, {"10.0.0.1:80", "10.0.0.3:80"});
  clock_.advance(seconds(30));
  // Still panicking (both are probing), yet each gets exactly one probe.
  std::map<std::string, int> probes;
  for (int i = 0; i < 300; ++i) {
    auto handle = lb->pick();
    ASSERT_TRUE(handle.ok());
    if (handle->isProbe()) {
      ++probes[handle->address()];
    }
    handle->complete(Outcome::kSuccess);
  }
  EXPECT_EQ(probes["10.0.0.1:80"], 1);
  EXPECT_EQ(probes["10.0.0.2:80"], 1);
  EXPECT_EQ(lb->outliers().ejectedCount(), 0u);
  const auto panics = lb->panics();
  (void)spread(*lb, 50);
  EXPECT_EQ(lb->panics(), panics);  // the panic is over
}

TEST_P(LoadBalancerTest, ConnectFailuresEjectToo) {
  BalancerSettings settings;
  settings.outliers.consecutiveFailures = 2;
  auto lb = make(settings);
  lb->update(three());
  const std::vector<std::string> others{"10.0.0.2:80", "10.0.0.3:80"};
  for (int i = 0; i < 2; ++i) {
    auto handle = lb->pick(others);
    ASSERT_TRUE(handle.ok());
    handle->complete(Outcome::kConnectFailure);
  }
  EXPECT_TRUE(lb->outliers().isEjected("10.0.0.1:80"));
}

std::string algorithmName(const ::testing::TestParamInfo<Algorithm>& p) {
  switch (p.param) {
    case Algorithm::kP2cEwma:
      return "P2cEwma";
    case Algorithm::kRoundRobin:
      return "RoundRobin";
    case Algorithm::kLeastRequest:
      return "LeastRequest";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, LoadBalancerTest,
                         ::testing::Values(Algorithm::kP2cEwma, Algorithm::kRoundRobin,
                                           Algorithm::kLeastRequest),
                         algorithmName);

}  // namespace
}  // namespace weft::proxy::lb
