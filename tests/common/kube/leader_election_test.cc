// Leader election on a Lease in the fake API server: one leader at a time,
// a held lease is respected until it expires, release hands over at once.
#include "common/kube/leader_election.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/kube/kube_test_env.h"

namespace weft::kube::testing {
namespace {

using LeaderElectionTest = KubeTestEnv;

LeaderElectionOptions optionsFor(const std::string& identity) {
  LeaderElectionOptions o;
  o.ns = "weft";
  o.name = "weft-operator";
  o.identity = identity;
  o.leaseDuration = std::chrono::milliseconds(3000);
  o.renewDeadline = std::chrono::milliseconds(2000);
  o.retryPeriod = std::chrono::milliseconds(20);
  return o;
}

TEST_F(LeaderElectionTest, AHeldLeaseIsRespectedUntilItExpires) {
  LeaderElector a(*api_, optionsFor("a"), nullptr, nullptr);
  LeaderElector b(*api_, optionsFor("b"), nullptr, nullptr);
  auto t0 = LeaderElector::Clock::now();
  ASSERT_TRUE(a.tryAcquireOrRenew(t0).value());
  EXPECT_FALSE(b.tryAcquireOrRenew(t0).value());
  ASSERT_TRUE(a.tryAcquireOrRenew(t0 + std::chrono::milliseconds(10)).value());  // renew
  // b saw a change at t0; a renewed afterwards, so b's clock restarts now.
  EXPECT_FALSE(b.tryAcquireOrRenew(t0 + std::chrono::milliseconds(20)).value());
  EXPECT_FALSE(b.tryAcquireOrRenew(t0 + std::chrono::milliseconds(2000)).value());
  // a stopped renewing: once leaseDuration passed since b last saw a change, b takes over.
  EXPECT_TRUE(b.tryAcquireOrRenew(t0 + std::chrono::milliseconds(3100)).value());
  auto lease = api_->get(resources::leases(), "weft", "weft-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 3);
  // And a, back, finds it held.
  EXPECT_FALSE(a.tryAcquireOrRenew(t0 + std::chrono::milliseconds(3200)).value());
}

TEST_F(LeaderElectionTest, OneLeaderAtATimeAndReleaseHandsOver) {
  std::atomic<int> leaders{0};
  std::atomic<int> maxLeaders{0};
  auto started = [&] {
    int now = ++leaders;
    int prev = maxLeaders.load();
    while (now > prev && !maxLeaders.compare_exchange_weak(prev, now)) {
    }
  };
  auto stopped = [&] { --leaders; };
  LeaderElector a(*api_, optionsFor("a"), started, stopped);
  LeaderElector b(*api_, optionsFor("b"), started, stopped);
  StopSignal stopA;
  StopSignal stopB;
  std::thread ta([&] { a.run(stopA); });
  ASSERT_TRUE(waitFor([&] { return a.isLeader(); }));
  std::thread tb([&] { b.run(stopB); });
  // b keeps trying for a while but never wins while a renews.
  ASSERT_TRUE(waitFor([&] {
    return server_->state().requestCount("GET", resources::leases().path("weft", "weft-operator")) >
           20;
  }));
  EXPECT_FALSE(b.isLeader());
  auto handover = std::chrono::steady_clock::now();
  stopA.stop();
  ta.join();
  EXPECT_FALSE(a.isLeader());
  // a released the lease, so b need not wait for it to expire.
  ASSERT_TRUE(waitFor([&] { return b.isLeader(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - handover, std::chrono::milliseconds(2500));
  stopB.stop();
  tb.join();
  EXPECT_EQ(maxLeaders.load(), 1);
  EXPECT_EQ(leaders.load(), 0);
}

}  // namespace
}  // namespace weft::kube::testing
