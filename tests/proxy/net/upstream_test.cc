// Per-worker upstream state: balancing over ready endpoints, ejection after
// consecutive failures with the ejection cap, retry budget and backoff.
#include "proxy/src/net/upstream.h"

#include <map>

#include <gtest/gtest.h>

namespace weft::proxy::net {
namespace {

api::Backend backend(std::initializer_list<const char*> addresses) {
  api::Backend b;
  for (const char* a : addresses) {
    api::Endpoint e;
    e.address = a;
    b.endpoints.push_back(e);
  }
  return b;
}

std::string pickAddress(Upstreams& u, const api::Backend& b, const api::Policy& p,
                        const std::vector<EndpointState*>& tried = {}) {
  PickFailure why;
  auto* e = u.pick(b, p, tried, why);
  return e == nullptr ? ""
                      : e->address.address().to_string() + ":" + std::to_string(e->address.port());
}

TEST(UpstreamTest, OnlyReadyEndpointsWithWeightAreChosen) {
  Upstreams u(1, 1);
  auto b = backend({"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"});
  b.endpoints[0].ready = false;
  b.endpoints[1].weight = 0;
  api::Policy p;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(pickAddress(u, b, p), "127.0.0.1:3");
  }
  b.endpoints[2].terminating = true;
  PickFailure why;
  EXPECT_EQ(u.pick(b, p, {}, why), nullptr);
  EXPECT_EQ(why, PickFailure::kNoEndpoints);
}

TEST(UpstreamTest, TriedEndpointsAreAvoidedWhenAnotherExists) {
  Upstreams u(1, 2);
  auto b = backend({"127.0.0.1:1", "127.0.0.1:2"});
  api::Policy p;
  PickFailure why;
  auto* first = u.pick(b, p, {}, why);
  ASSERT_NE(first, nullptr);
  for (int i = 0; i < 20; ++i) {
    auto* second = u.pick(b, p, {first}, why);
    EXPECT_NE(second, first);
  }
  auto single = backend({"127.0.0.1:9"});
  auto* only = u.pick(single, p, {}, why);
  EXPECT_EQ(u.pick(single, p, {only}, why), only);  // nowhere else to go
}

TEST(UpstreamTest, ConsecutiveFailuresEjectWithinTheCap) {
  Upstreams u(1, 3);
  auto b = backend({"127.0.0.1:1", "127.0.0.1:2"});
  api::Policy p;
  p.outlierDetection.consecutiveFailures = 3;
  PickFailure why;
  auto& bad = *u.pick(backend({"127.0.0.1:1"}), p, {}, why);
  EXPECT_FALSE(u.record(bad, p.outlierDetection, false, std::chrono::milliseconds(1)));
  EXPECT_FALSE(u.record(bad, p.outlierDetection, true, std::chrono::milliseconds(1)));
  EXPECT_FALSE(u.record(bad, p.outlierDetection, false, std::chrono::milliseconds(1)));
  EXPECT_FALSE(u.record(bad, p.outlierDetection, false, std::chrono::milliseconds(1)));
  EXPECT_TRUE(u.record(bad, p.outlierDetection, false, std::chrono::milliseconds(1)));
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(pickAddress(u, b, p), "127.0.0.1:2");
  }
  // With both ejected (100% > 50%), ejection is ignored rather than failing.
  auto& other = *u.pick(backend({"127.0.0.1:2"}), p, {}, why);
  for (int i = 0; i < 3; ++i) {
    u.record(other, p.outlierDetection, false, std::chrono::milliseconds(1));
  }
  std::map<std::string, int> seen;
  for (int i = 0; i < 100; ++i) {
    ++seen[pickAddress(u, b, p)];
  }
  EXPECT_GT(seen["127.0.0.1:1"], 0);
  EXPECT_GT(seen["127.0.0.1:2"], 0);
}

TEST(UpstreamTest, PeakEwmaPrefersTheFasterEndpoint) {
  Upstreams u(1, 4);
  auto b = backend({"127.0.0.1:1", "127.0.0.1:2"});
  api::Policy p;
  PickFailure why;
  auto& slow = *u.pick(backend({"127.0.0.1:1"}), p, {}, why);
  auto& fast = *u.pick(backend({"127.0.0.1:2"}), p, {}, why);
  u.record(slow, p.outlierDetection, true, std::chrono::milliseconds(200));
  u.record(fast, p.outlierDetection, true, std::chrono::milliseconds(2));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(pickAddress(u, b, p), "127.0.0.1:2");
  }
}

TEST(UpstreamTest, RetryBudgetAllowsRatioPlusFloor) {
  Upstreams u(1, 5);
  api::RetryBudget budget;
  budget.ratio = 0.2;
  budget.minPerSecond = 0;
  auto& d = u.destination("svc");
  for (int i = 0; i < 100; ++i) {
    u.depositRequest(d, budget);
  }
  int allowed = 0;
  while (allowed < 1000 && u.withdrawRetry(d, budget)) {
    ++allowed;
  }
  EXPECT_EQ(allowed, 20);
}

TEST(UpstreamTest, BackoffIsJitteredWithinTheCeiling) {
  Upstreams u(1, 6);
  api::Backoff b{std::chrono::milliseconds(10), std::chrono::milliseconds(40)};
  for (int n = 1; n <= 6; ++n) {
    auto ceiling = std::min(10 << (n - 1), 40);
    for (int i = 0; i < 20; ++i) {
      auto d = u.backoff(b, n).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling);
    }
  }
}

TEST(UpstreamTest, UnusedEndpointsAreEvictedPastTheBound) {
  Upstreams u(1, 8);
  auto base = boost::asio::ip::make_address_v4("198.51.100.1").to_uint();
  auto& busy = u.endpoint(Tcp::endpoint(boost::asio::ip::address_v4(base), 1));
  busy.inflight = 1;
  for (unsigned i = 0; i < Upstreams::kMaxEndpoints + 10; ++i) {
    u.endpoint(
        Tcp::endpoint(boost::asio::ip::address_v4(base), static_cast<unsigned short>(2 + i)));
  }
  EXPECT_GT(u.endpointCount(), Upstreams::kMaxEndpoints);
  u.evictIdle();
  EXPECT_EQ(u.endpointCount(), 1u);
  EXPECT_EQ(&u.endpoint(Tcp::endpoint(boost::asio::ip::address_v4(base), 1)), &busy);
}

TEST(UpstreamTest, LimitShareIsPerWorker) {
  Upstreams u(4, 7);
  EXPECT_EQ(u.share(100), 25);
  EXPECT_EQ(u.share(1), 1);
  EXPECT_EQ(u.share(5), 2);
}

}  // namespace
}  // namespace weft::proxy::net
