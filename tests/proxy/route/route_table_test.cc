// Tests for HTTPRoute-shaped matching, weighted backends and route validation.
#include "proxy/src/route/route_table.h"

#include <chrono>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "tests/proxy/route/fake_header_map.h"

namespace weft::proxy::route {
namespace {

using std::chrono::seconds;

const std::string kDefault = "backend.demo.svc.cluster.local:8080";

RouteSettings routeTo(std::string name, MatchSettings match) {
  RouteSettings route;
  route.name = name;
  route.matches.push_back(std::move(match));
  route.backends.push_back({name + "-backend", 1});
  return route;
}

MatchSettings pathMatch(PathMatch::Type type, std::string value) {
  MatchSettings match;
  match.path = PathMatch{type, std::move(value)};
  return match;
}

RouteTable build(std::vector<RouteSettings> routes) {
  auto table = RouteTable::create(std::move(routes), kDefault);
  EXPECT_TRUE(table.ok()) << (table.ok() ? "" : table.error().message);
  return std::move(table).value();
}

// Name of the matched route, or "" for no match.
std::string routed(const RouteTable& table, std::string_view target,
                   const FakeHeaderMap& headers = {}, std::string_view method = "GET") {
  const Route* route = table.match(RequestView{method, target, headers});
  return route == nullptr ? "" : route->name();
}

std::string refusal(std::vector<RouteSettings> routes) {
  auto table = RouteTable::create(std::move(routes), kDefault);
  EXPECT_FALSE(table.ok());
  if (table.ok()) {
    return "";
  }
  EXPECT_EQ(table.error().code, ErrorCode::kInvalidArgument);
  return table.error().message;
}

TEST(RouteTableTest, NoRoutesSendsEverythingToTheDefaultBackend) {
  auto table = build({});
  const Route* route = table.match(RequestView{"POST", "/anything?x=1", FakeHeaderMap{}});
  ASSERT_NE(route, nullptr);
  resilience::SeededRandom random(1);
  const BackendRef* backend = route->chooseBackend(random);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->name, kDefault);
  EXPECT_FALSE(RouteTable::create({}, "").ok());
}

TEST(RouteTableTest, ExactPath) {
  auto table = build({routeTo("exact", pathMatch(PathMatch::Type::kExact, "/api"))});
  EXPECT_EQ(routed(table, "/api"), "exact");
  EXPECT_EQ(routed(table, "/api?x=1"), "exact");
  EXPECT_EQ(routed(table, "/api/"), "");
  EXPECT_EQ(routed(table, "/API"), "");
  EXPECT_EQ(routed(table, "/ap"), "");
}

TEST(RouteTableTest, PathPrefixIsSegmentAware) {
  auto table = build({routeTo("api", pathMatch(PathMatch::Type::kPathPrefix, "/api"))});
  EXPECT_EQ(routed(table, "/api"), "api");
  EXPECT_EQ(routed(table, "/api/"), "api");
  EXPECT_EQ(routed(table, "/api/x/y"), "api");
  EXPECT_EQ(routed(table, "/api?q=1"), "api");
  EXPECT_EQ(routed(table, "/apix"), "");
  EXPECT_EQ(routed(table, "/ap"), "");
  EXPECT_EQ(routed(table, "/v1/api"), "");
  // A trailing slash in the prefix means the same.
  auto slash = build({routeTo("api", pathMatch(PathMatch::Type::kPathPrefix, "/api/"))});
  EXPECT_EQ(routed(slash, "/api"), "api");
  EXPECT_EQ(routed(slash, "/api/x"), "api");
  EXPECT_EQ(routed(slash, "/apix"), "");
  // "/" matches every path.
  auto root = build({routeTo("root", pathMatch(PathMatch::Type::kPathPrefix, "/"))});
  EXPECT_EQ(routed(root, "/"), "root");
  EXPECT_EQ(routed(root, "/anything/at/all"), "root");
}

TEST(RouteTableTest, RegularExpressionMustMatchTheWholePath) {
  auto table =
      build({routeTo("users", pathMatch(PathMatch::Type::kRegularExpression, "/users/[0-9]+"))});
  EXPECT_EQ(routed(table, "/users/42"), "users");
  EXPECT_EQ(routed(table, "/users/42?full=1"), "users");
  EXPECT_EQ(routed(table, "/users/42/posts"), "");
  EXPECT_EQ(routed(table, "/v2/users/42"), "");
  EXPECT_EQ(routed(table, "/users/"), "");
}

TEST(RouteTableTest, RegularExpressionRunsInLinearTime) {
  // Catastrophic for a backtracking engine; RE2 answers at once.
  auto table = build({routeTo("evil", pathMatch(PathMatch::Type::kRegularExpression, "/(a+)+b"))});
  const std::string path = "/" + std::string(200000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(routed(table, path), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
  EXPECT_EQ(routed(table, "/aaab"), "evil");
}

TEST(RouteTableTest, Headers) {
  MatchSettings match;
  match.headers = {{"X-Canary", ValueMatchType::kExact, "1"},
                   {"x-user", ValueMatchType::kRegularExpression, "(alice|bob)@example\\.com"},
                   {"X-Debug", ValueMatchType::kPresent, ""}};
  auto table = build({routeTo("canary", match)});
  FakeHeaderMap all{{"x-canary", "1"}, {"X-User", "bob@example.com"}, {"x-debug", ""}};
  EXPECT_EQ(routed(table, "/", all), "canary");
  FakeHeaderMap wrongCase{{"x-canary", "1"}, {"X-User", "BOB@example.com"}, {"x-debug", "1"}};
  EXPECT_EQ(routed(table, "/", wrongCase), "");  // values compare exactly
  FakeHeaderMap partial{{"x-canary", "1"}, {"X-User", "bob@example.com.evil"}, {"x-debug", "1"}};
  EXPECT_EQ(routed(table, "/", partial), "");  // regex is a full match
  FakeHeaderMap missing{{"x-canary", "1"}, {"X-User", "alice@example.com"}};
  EXPECT_EQ(routed(table, "/", missing), "");
  FakeHeaderMap wrongValue{{"x-canary", "2"}, {"X-User", "alice@example.com"}, {"x-debug", ""}};
  EXPECT_EQ(routed(table, "/", wrongValue), "");
}

TEST(RouteTableTest, MethodIsExact) {
  MatchSettings match;
  match.method = "POST";
  auto table = build({routeTo("post", match)});
  EXPECT_EQ(routed(table, "/", {}, "POST"), "post");
  EXPECT_EQ(routed(table, "/", {}, "GET"), "");
  EXPECT_EQ(routed(table, "/", {}, "post"), "");
}

TEST(RouteTableTest, QueryParams) {
  MatchSettings match;
  match.queryParams = {{"debug", ValueMatchType::kExact, "1"},
                       {"user name", ValueMatchType::kExact, "a&b"},
                       {"v", ValueMatchType::kRegularExpression, "v[0-9]"},
                       {"flag", ValueMatchType::kPresent, ""}};
  auto table = build({routeTo("q", match)});
  EXPECT_EQ(routed(table, "/p?debug=1&user%20name=a%26b&v=v2&flag"), "q");
  EXPECT_EQ(routed(table, "/p?flag=&v=v9&user%20name=a%26b&debug=%31"), "q");
  // The first occurrence counts.
  EXPECT_EQ(routed(table, "/p?debug=2&debug=1&user%20name=a%26b&v=v2&flag"), "");
  EXPECT_EQ(routed(table, "/p?debug=1&user%20name=a%26b&v=v22&flag"), "");
  EXPECT_EQ(routed(table, "/p?debug=1&user%20name=a%26b&v=v2"), "");
  EXPECT_EQ(routed(table, "/p"), "");
  EXPECT_EQ(routed(table, "/p?Debug=1&user%20name=a%26b&v=v2&flag"), "");  // names are exact
}

TEST(RouteTableTest, QueryHelpers) {
  EXPECT_EQ(percentDecode("a%20b%zz%4"), "a b%zz%4");
  EXPECT_EQ(percentDecode("%41%62"), "Ab");
  EXPECT_EQ(findQueryParam("a=1&&b=2&c", "b"), "2");
  EXPECT_EQ(findQueryParam("a=1&b=2&c", "c"), "");
  EXPECT_EQ(findQueryParam("a=1", "z"), std::nullopt);
  EXPECT_EQ(findQueryParam("", "a"), std::nullopt);
  EXPECT_EQ(findQueryParam("a=x=y", "a"), "x=y");
}

TEST(RouteTableTest, AllConditionsOfAMatchAnyMatchOfARouteFirstRouteWins) {
  MatchSettings both = pathMatch(PathMatch::Type::kPathPrefix, "/api");
  both.method = "GET";
  RouteSettings api = routeTo("api-get", both);
  api.matches.push_back(pathMatch(PathMatch::Type::kExact, "/health"));  // OR
  RouteSettings catchAll = routeTo("all", pathMatch(PathMatch::Type::kPathPrefix, "/"));
  RouteSettings shadowed = routeTo("never", pathMatch(PathMatch::Type::kPathPrefix, "/api"));
  auto table = build({api, catchAll, shadowed});
  EXPECT_EQ(routed(table, "/api/x", {}, "GET"), "api-get");
  EXPECT_EQ(routed(table, "/api/x", {}, "DELETE"), "all");
  EXPECT_EQ(routed(table, "/health", {}, "DELETE"), "api-get");
  EXPECT_EQ(routed(table, "/other"), "all");
}

TEST(RouteTableTest, NoMatchingRouteIsNull) {
  auto table = build({routeTo("api", pathMatch(PathMatch::Type::kPathPrefix, "/api"))});
  EXPECT_EQ(table.match(RequestView{"GET", "/web", FakeHeaderMap{}}), nullptr);
}

TEST(RouteTableTest, RouteWithoutMatchesTakesEverything) {
  RouteSettings all;
  all.name = "all";
  auto table = build({all});
  EXPECT_EQ(routed(table, "/x"), "all");
  // No backends listed: the default backend.
  resilience::SeededRandom random(1);
  EXPECT_EQ(table.routes()[0].chooseBackend(random)->name, kDefault);
}

TEST(RouteTableTest, WeightedBackends) {
  RouteSettings canary;
  canary.name = "canary";
  canary.backends = {{"v1", 90}, {"v2", 10}, {"v3", 0}};
  auto table = build({canary});
  resilience::SeededRandom random(8);
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; ++i) {
    ++counts[table.routes()[0].chooseBackend(random)->name];
  }
  EXPECT_NEAR(counts["v1"], 18000, 300);
  EXPECT_NEAR(counts["v2"], 2000, 300);
  EXPECT_EQ(counts.count("v3"), 0u);
}

TEST(RouteTableTest, AllZeroWeightsMeanNoBackend) {
  RouteSettings off;
  off.name = "off";
  off.backends = {{"v1", 0}, {"v2", 0}};
  auto table = build({off});
  resilience::SeededRandom random(1);
  EXPECT_EQ(table.routes()[0].chooseBackend(random), nullptr);
}

TEST(RouteTableTest, CarriesPerRouteSettings) {
  RouteSettings route = routeTo("r", pathMatch(PathMatch::Type::kPathPrefix, "/"));
  route.timeout = seconds(2);
  route.retries = resilience::RetrySettings{};
  route.retries->attempts = 2;
  route.requestHeaders.set = {{"x-a", "b"}};
  route.fault.abort = FaultAbort{503, 5};
  route.mirror = MirrorSettings{"shadow", 0};
  auto table = build({route});
  const Route& r = table.routes()[0];
  EXPECT_EQ(r.timeout(), seconds(2));
  ASSERT_TRUE(r.retries());
  EXPECT_EQ(r.retries()->attempts, 2u);
  EXPECT_FALSE(r.requestHeaders().empty());
  EXPECT_TRUE(r.responseHeaders().empty());
  ASSERT_TRUE(r.fault().abort);
  EXPECT_EQ(r.fault().abort->percent, 5);
  resilience::SeededRandom random(1);
  EXPECT_FALSE(r.shouldMirror(random));  // 0 %
  FakeHeaderMap headers;
  r.requestHeaders().apply(headers);
  EXPECT_EQ(headers.get("X-A"), "b");
}

TEST(RouteTableTest, MirrorPercent) {
  RouteSettings route;
  route.name = "m";
  route.mirror = MirrorSettings{"shadow", 25};
  auto table = build({route});
  resilience::SeededRandom random(4);
  int mirrored = 0;
  for (int i = 0; i < 10000; ++i) {
    mirrored += table.routes()[0].shouldMirror(random) ? 1 : 0;
  }
  EXPECT_NEAR(mirrored, 2500, 200);
}

// Arbitrary bytes in the target, headers and query never crash matching, and
// the invariants of the simple matchers hold for every input.
TEST(RouteTableTest, ArbitraryInputIsHandled) {
  MatchSettings query;
  query.queryParams = {{"a", ValueMatchType::kRegularExpression, ".*"}};
  MatchSettings header;
  header.headers = {{"x-a", ValueMatchType::kRegularExpression, "[^x]*"}};
  auto table = build({routeTo("q", query), routeTo("h", header),
                      routeTo("re", pathMatch(PathMatch::Type::kRegularExpression, "/[a-z%]*")),
                      routeTo("root", pathMatch(PathMatch::Type::kPathPrefix, "/"))});
  resilience::SeededRandom random(31);
  static constexpr char kChars[] = "/?&=%#abcxyz019 \t\0\xff.";
  constexpr std::string_view kAlphabet(kChars, sizeof(kChars) - 1);  // keeps the NUL
  for (int i = 0; i < 5000; ++i) {
    std::string target = random.chance(80) ? "/" : "";
    const auto length = random.uniform(40);
    for (std::uint64_t k = 0; k < length; ++k) {
      target.push_back(kAlphabet[random.uniform(kAlphabet.size())]);
    }
    FakeHeaderMap headers{{"X-A", target}};
    const std::string name = routed(table, target, headers);
    const std::string path = target.substr(0, target.find_first_of("?#"));
    if (!path.empty() && path.front() == '/') {
      ASSERT_FALSE(name.empty()) << "\"" << target << "\" matched nothing";
    }
    if (target.find('%') == std::string::npos) {
      ASSERT_EQ(percentDecode(target), target);
    }
  }
}

TEST(RouteTableTest, RefusesInvalidRoutesNamingThePlace) {
  EXPECT_NE(refusal({routeTo("bad-re", pathMatch(PathMatch::Type::kRegularExpression, "/(x"))})
                .find("routes[0] (bad-re).matches[0].path"),
            std::string::npos);
  EXPECT_NE(refusal({routeTo("rel", pathMatch(PathMatch::Type::kPathPrefix, "api"))})
                .find("must start with"),
            std::string::npos);
  EXPECT_NE(refusal({routeTo("empty", pathMatch(PathMatch::Type::kExact, ""))}).find("start with"),
            std::string::npos);
  MatchSettings dupHeaders;
  dupHeaders.headers = {{"X-A", ValueMatchType::kExact, "1"}, {"x-a", ValueMatchType::kExact, "2"}};
  EXPECT_NE(refusal({routeTo("dup", dupHeaders)}).find("listed twice"), std::string::npos);
  MatchSettings badName;
  badName.headers = {{"x a", ValueMatchType::kPresent, ""}};
  EXPECT_NE(refusal({routeTo("name", badName)}).find("invalid header name"), std::string::npos);
  MatchSettings badHeaderRe;
  badHeaderRe.headers = {{"x-a", ValueMatchType::kRegularExpression, "[z-a]"}};
  EXPECT_NE(refusal({routeTo("hre", badHeaderRe)}).find("headers[x-a]"), std::string::npos);
  MatchSettings badMethod;
  badMethod.method = "GE T";
  EXPECT_NE(refusal({routeTo("m", badMethod)}).find("invalid method"), std::string::npos);
  MatchSettings dupQuery;
  dupQuery.queryParams = {{"a", ValueMatchType::kExact, "1"}, {"a", ValueMatchType::kPresent, ""}};
  EXPECT_NE(refusal({routeTo("q", dupQuery)}).find("listed twice"), std::string::npos);
  MatchSettings badQueryRe;
  badQueryRe.queryParams = {{"a", ValueMatchType::kRegularExpression, "(("}};
  EXPECT_NE(refusal({routeTo("qre", badQueryRe)}).find("queryParams[a]"), std::string::npos);

  RouteSettings heavy;
  heavy.backends = {{"v1", RouteTable::kMaxWeight + 1}};
  EXPECT_NE(refusal({heavy}).find("above 1000000"), std::string::npos);
  RouteSettings unnamed;
  unnamed.backends = {{"", 1}};
  EXPECT_NE(refusal({unnamed}).find("empty backend name"), std::string::npos);
  RouteSettings retries;
  retries.name = "second";
  retries.retries = resilience::RetrySettings{};
  retries.retries->attempts = 0;
  EXPECT_NE(refusal({RouteSettings{}, retries}).find("routes[1] (second)"), std::string::npos);
  RouteSettings framing;
  framing.requestHeaders.set = {{"Transfer-Encoding", "chunked"}};
  EXPECT_NE(refusal({framing}).find("requestHeaders"), std::string::npos);
  RouteSettings fault;
  fault.fault.delay = FaultDelay{seconds(1), 150};
  EXPECT_NE(refusal({fault}).find("fault.delay.percent"), std::string::npos);
  RouteSettings mirror;
  mirror.mirror = MirrorSettings{"", 10};
  EXPECT_NE(refusal({mirror}).find("mirror.backend"), std::string::npos);
  RouteSettings negative;
  negative.timeout = seconds(-1);
  EXPECT_NE(refusal({negative}).find("timeout"), std::string::npos);
  EXPECT_NE(refusal({routeTo("long", pathMatch(PathMatch::Type::kRegularExpression,
                                               "/" + std::string(5000, 'a')))})
                .find("longer than"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::proxy::route
