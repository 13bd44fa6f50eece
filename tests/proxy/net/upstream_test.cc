// Per-worker upstream state: destinations follow config snapshots (balancer
// state kept per address, limits split across workers), and the connection
// pool stays bounded.
#include "proxy/src/net/upstream.h"

#include <gtest/gtest.h>

namespace weft::proxy::net {
namespace {

api::Outbound outbound(const std::string& authority, std::initializer_list<const char*> addresses) {
  api::Outbound o;
  o.authority = authority;
  api::Backend b;
  for (const char* a : addresses) {
    api::Endpoint e;
    e.address = a;
    b.endpoints.push_back(e);
  }
  o.backends[authority] = b;
  return o;
}

config::SnapshotPtr table(std::vector<api::Outbound> outbounds) {
  auto s = config::Snapshot::build(std::move(outbounds), std::nullopt, "test");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

struct Fixture {
  FakeClock clock;
  resilience::SeededRandom random{1};
  Destinations destinations{4, clock, random};
};

TEST(DestinationsTest, BalancerFollowsTheEndpointsOfEachSnapshot) {
  Fixture f;
  auto t1 = table({outbound("web.default:80", {"10.0.0.1:80", "10.0.0.2:80"})});
  auto d = f.destinations.get(*t1, t1->outbounds()[0]);
  auto& backend = d->backends.at("web.default:80");
  EXPECT_EQ(backend.balancer->readyCount(), 2u);
  EXPECT_TRUE(backend.readiness.hasReady());

  auto t2 = table({outbound("web.default:80", {})});
  f.destinations.sync(*t2);
  EXPECT_EQ(f.destinations.get(*t2, t2->outbounds()[0]), d) << "state survives the swap";
  EXPECT_EQ(d->backends.at("web.default:80").balancer->readyCount(), 0u);
  EXPECT_FALSE(d->backends.at("web.default:80").readiness.hasReady());
  EXPECT_FALSE(d->backends.at("web.default:80").balancer->pick());
}

TEST(DestinationsTest, OutlierStateIsKeptForAddressesStillPresent) {
  Fixture f;
  auto o = outbound("web.default:80", {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"});
  o.policy.outlierDetection.consecutiveFailures = 1;
  auto t1 = table({o});
  auto d = f.destinations.get(*t1, t1->outbounds()[0]);
  auto& balancer = *d->backends.at("web.default:80").balancer;
  auto h = balancer.pick();
  ASSERT_TRUE(h);
  std::string failed = h->address();
  h->complete(lb::Outcome::kConnectFailure);
  ASSERT_TRUE(balancer.outliers().isEjected(failed));

  f.destinations.sync(*table({o}));
  EXPECT_TRUE(d->backends.at("web.default:80").balancer->outliers().isEjected(failed));
}

TEST(DestinationsTest, ForgottenWhenTheTableNoLongerNamesThem) {
  Fixture f;
  auto t1 = table({outbound("a.default:80", {"10.0.0.1:80"})});
  auto held = f.destinations.get(*t1, t1->outbounds()[0]);
  f.destinations.sync(*table({}));
  auto t3 = table({outbound("a.default:80", {"10.0.0.1:80"})});
  EXPECT_NE(f.destinations.get(*t3, t3->outbounds()[0]), held);
  EXPECT_EQ(held->backends.at("a.default:80").balancer->readyCount(), 1u)
      << "a request holding the old state can finish";
}

TEST(DestinationsTest, LimitsAndBudgetFloorAreSplitAcrossWorkers) {
  Fixture f;
  auto o = outbound("web.default:80", {"10.0.0.1:80"});
  o.policy.circuitBreaker.maxRequests = 8;
  auto t = table({o});
  auto d = f.destinations.get(*t, t->outbounds()[0]);
  EXPECT_EQ(d->limits.settings().maxRequests, 2);
  EXPECT_DOUBLE_EQ(d->budget->settings().minPerSecond, 10.0 / 4);
  EXPECT_EQ(f.destinations.share(1), 1);
  EXPECT_EQ(f.destinations.share(5), 1);
}

TEST(ConnectionPoolTest, UnusedEntriesAreEvictedPastTheBound) {
  ConnectionPool pool;
  auto base = boost::asio::ip::make_address_v4("198.51.100.1").to_uint();
  auto& busy = pool.find(Tcp::endpoint(boost::asio::ip::address_v4(base), 1));
  busy.inUse = 1;
  for (unsigned i = 0; i < ConnectionPool::kMaxEntries + 10; ++i) {
    pool.find(Tcp::endpoint(boost::asio::ip::address_v4(base), static_cast<unsigned short>(2 + i)));
  }
  EXPECT_GT(pool.size(), ConnectionPool::kMaxEntries);
  pool.evict();
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(&pool.find(Tcp::endpoint(boost::asio::ip::address_v4(base), 1)), &busy);
}

TEST(ConnectionPoolTest, AddressesParseOnceAndBadOnesAreRefused) {
  ConnectionPool pool;
  auto* e = pool.find(std::string_view("10.1.2.3:8080"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->address.port(), 8080);
  EXPECT_EQ(pool.find(std::string_view("10.1.2.3:8080")), e);
  EXPECT_EQ(pool.find(std::string_view("web:80")), nullptr);
}

}  // namespace
}  // namespace weft::proxy::net
