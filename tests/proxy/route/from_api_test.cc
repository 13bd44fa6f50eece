// Tests for mapping common/api documents onto the policy settings.
#include "proxy/src/route/from_api.h"

#include <gtest/gtest.h>

#include "tests/proxy/route/fake_header_map.h"

namespace weft::proxy::route {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

api::Outbound sampleOutbound() {
  api::Outbound out;
  out.authority = "backend.demo.svc.cluster.local:8080";
  out.policy.retries.attempts = 4;
  out.policy.retries.budget = {0.3, 5};
  api::Route canary;
  canary.name = "canary";
  api::RouteMatch match;
  match.path = api::PathMatch{api::PathMatchType::kPathPrefix, "/api"};
  match.method = "GET";
  match.headers = {{"x-canary", api::ValueMatchType::kExact, "1"}};
  match.queryParams = {{"debug", api::ValueMatchType::kPresent, ""}};
  canary.matches = {match};
  canary.backends = {{"v1", 90}, {"v2", 10}};
  canary.timeout = milliseconds(2000);
  api::RetryOverride override;
  override.attempts = 2;
  override.on = std::vector<api::RetryOn>{{api::RetryOn::Kind::kGatewayError, 0},
                                          {api::RetryOn::Kind::kStatus, 429}};
  canary.retries = override;
  canary.requestHeaders.set = {{"x-a", "b"}};
  canary.requestHeaders.remove = {"x-e"};
  canary.fault = api::Fault{api::FaultDelay{milliseconds(100), 10}, api::FaultAbort{503, 5}};
  canary.mirror = api::Mirror{"shadow", 50};
  out.routes = {canary};
  return out;
}

TEST(FromApiTest, RouteTableCarriesEverything) {
  auto table = routeTableFrom(sampleOutbound());
  ASSERT_TRUE(table.ok()) << table.error().message;
  FakeHeaderMap headers{{"X-Canary", "1"}};
  const Route* route = table->match(RequestView{"GET", "/api/x?debug", headers});
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->name(), "canary");
  EXPECT_EQ(table->match(RequestView{"GET", "/api/x", headers}), nullptr);
  ASSERT_EQ(route->backends().size(), 2u);
  EXPECT_EQ(route->backends()[0].name, "v1");
  EXPECT_EQ(route->backends()[0].weight, 90u);
  EXPECT_EQ(route->timeout(), seconds(2));
  // The route's retries are merged over the policy's: attempts and on from
  // the route, the budget from the policy.
  ASSERT_TRUE(route->retries());
  EXPECT_EQ(route->retries()->attempts, 2u);
  EXPECT_TRUE(route->retries()->on.gatewayError);
  EXPECT_EQ(route->retries()->on.statuses, std::vector<std::uint16_t>{429});
  EXPECT_DOUBLE_EQ(route->retries()->budget.ratio, 0.3);
  ASSERT_TRUE(route->fault().delay && route->fault().abort);
  EXPECT_EQ(route->fault().delay->duration, milliseconds(100));
  EXPECT_EQ(route->fault().abort->status, 503);
  ASSERT_TRUE(route->mirror());
  EXPECT_EQ(route->mirror()->percent, 50);
  FakeHeaderMap request{{"x-e", "gone"}};
  route->requestHeaders().apply(request);
  EXPECT_EQ(request.get("x-a"), "b");
  EXPECT_FALSE(request.get("x-e"));
}

TEST(FromApiTest, NoRoutesMeansTheAuthorityBackend) {
  api::Outbound out;
  out.authority = "svc.ns.svc.cluster.local:80";
  auto table = routeTableFrom(out);
  ASSERT_TRUE(table.ok());
  resilience::SeededRandom random(1);
  const Route* route = table->match(RequestView{"GET", "/", FakeHeaderMap{}});
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->chooseBackend(random)->name, "svc.ns.svc.cluster.local:80");
}

TEST(FromApiTest, RefusalsNameTheRoute) {
  api::Outbound out = sampleOutbound();
  out.routes[0].backends[0].weight = -1;
  auto negative = routeTableFrom(out);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find("routes[0] (canary)"), std::string::npos);
  out = sampleOutbound();
  out.routes[0].matches[0].path = api::PathMatch{api::PathMatchType::kRegularExpression, "(?<=a)"};
  auto lookbehind = routeTableFrom(out);  // valid ECMAScript-ish, not RE2
  ASSERT_FALSE(lookbehind.ok());
  EXPECT_NE(lookbehind.error().message.find("invalid regular expression"), std::string::npos);
  out = sampleOutbound();
  out.routes[0].fault->abort->status = 700;
  EXPECT_FALSE(routeTableFrom(out).ok());
}

TEST(FromApiTest, PolicyDefaultsMapToTheDocumentedDefaults) {
  const api::Policy policy;
  auto balancer = balancerSettingsFrom(policy);
  ASSERT_TRUE(balancer.ok());
  EXPECT_EQ(balancer->algorithm, lb::Algorithm::kP2cEwma);
  EXPECT_EQ(balancer->outliers.consecutiveFailures, 5u);
  EXPECT_EQ(balancer->outliers.baseEjection, seconds(30));
  EXPECT_EQ(balancer->outliers.maxEjectionPercent, 50u);
  auto retries = retrySettingsFrom(policy.retries);
  ASSERT_TRUE(retries.ok());
  EXPECT_EQ(retries->attempts, 3u);
  EXPECT_EQ(retries->on.statuses, std::vector<std::uint16_t>{503});
  EXPECT_FALSE(retries->on.serverError);
  EXPECT_EQ(retries->backoff.base, milliseconds(25));
  EXPECT_EQ(retries->backoff.max, milliseconds(250));
  EXPECT_DOUBLE_EQ(retries->budget.ratio, 0.2);
  EXPECT_DOUBLE_EQ(retries->budget.minPerSecond, 10);
  auto limits = limitSettingsFrom(policy.circuitBreaker);
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(limits->maxRequests, 100000);
  EXPECT_EQ(algorithmFrom(api::LoadBalancerKind::kRoundRobin), lb::Algorithm::kRoundRobin);
  EXPECT_EQ(algorithmFrom(api::LoadBalancerKind::kLeastRequest), lb::Algorithm::kLeastRequest);
}

TEST(FromApiTest, PolicyRefusals) {
  api::Policy policy;
  policy.retries.attempts = 0;
  EXPECT_FALSE(retrySettingsFrom(policy.retries).ok());
  policy = {};
  policy.retries.on = {{api::RetryOn::Kind::kStatus, 700}};
  EXPECT_FALSE(retrySettingsFrom(policy.retries).ok());
  policy = {};
  policy.outlierDetection.consecutiveFailures = -1;
  EXPECT_FALSE(balancerSettingsFrom(policy).ok());
  policy = {};
  policy.outlierDetection.maxEjectionPercent = 150;
  EXPECT_FALSE(balancerSettingsFrom(policy).ok());
  policy = {};
  policy.circuitBreaker.maxRequests = 0;
  EXPECT_FALSE(limitSettingsFrom(policy.circuitBreaker).ok());
}

TEST(FromApiTest, Endpoints) {
  api::Backend backend;
  const auto endpoint = [](std::string address, std::int64_t weight, bool ready, bool terminating) {
    api::Endpoint ep;
    ep.address = std::move(address);
    ep.weight = weight;
    ep.ready = ready;
    ep.terminating = terminating;
    return ep;
  };
  backend.endpoints = {endpoint("192.0.2.1:80", 2, true, false),
                       endpoint("192.0.2.2:80", 1, true, true),    // terminating
                       endpoint("192.0.2.3:80", 1, false, false),  // not ready
                       endpoint("192.0.2.4:80", 10'000'000'000, true, false)};
  const auto eps = endpointsFrom(backend);
  ASSERT_EQ(eps.size(), 4u);
  EXPECT_EQ(eps[0].address, "192.0.2.1:80");
  EXPECT_EQ(eps[0].weight, 2u);
  EXPECT_TRUE(eps[0].ready);
  EXPECT_FALSE(eps[1].ready);
  EXPECT_FALSE(eps[2].ready);
  EXPECT_EQ(eps[3].weight, 4294967295u);
}

}  // namespace
}  // namespace weft::proxy::route
