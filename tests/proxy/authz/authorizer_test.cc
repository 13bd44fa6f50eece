// Authorization rules: DENY before ALLOW, any ALLOW makes the rest denied,
// identities, namespaces, ports, methods and paths.
#include "proxy/src/authz/authorizer.h"

#include <gtest/gtest.h>

namespace weft::proxy::authz {
namespace {

constexpr std::string_view kFrontend = "spiffe://cluster.local/ns/demo/sa/frontend";
constexpr std::string_view kOps = "spiffe://cluster.local/ns/ops/sa/prober";

api::AuthzRule rule(api::AuthzAction action) {
  api::AuthzRule r;
  r.action = action;
  return r;
}

Authorizer make(std::vector<api::AuthzRule> rules) {
  auto a = Authorizer::create(api::Authorization{std::move(rules)});
  EXPECT_TRUE(a) << a.error().message;
  return std::move(a).value();
}

Request http(std::optional<std::string_view> peer, std::string_view method, std::string_view path,
             int port = 8080) {
  Request r;
  r.peer = peer;
  r.port = port;
  r.method = method;
  r.path = path;
  return r;
}

TEST(AuthorizerTest, NoRulesAllowEveryone) {
  auto a = make({});
  EXPECT_TRUE(a.check(http(std::nullopt, "GET", "/")).allowed);
  EXPECT_TRUE(a.check(http(kFrontend, "POST", "/x")).allowed);
}

TEST(AuthorizerTest, AnAllowRuleDeniesWhatItDoesNotMatch) {
  auto allow = rule(api::AuthzAction::kAllow);
  allow.from.identities = {std::string(kFrontend)};
  auto a = make({allow});
  EXPECT_TRUE(a.check(http(kFrontend, "GET", "/")).allowed);
  auto d = a.check(http(kOps, "GET", "/"));
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find(std::string(kOps)), std::string::npos) << d.reason;
  // Plaintext has no identity: a rule with `from` never matches it.
  auto p = a.check(http(std::nullopt, "GET", "/"));
  EXPECT_FALSE(p.allowed);
  EXPECT_NE(p.reason.find("plaintext caller"), std::string::npos);
}

TEST(AuthorizerTest, DenyWinsOverAllow) {
  auto allow = rule(api::AuthzAction::kAllow);
  auto deny = rule(api::AuthzAction::kDeny);
  deny.paths = {api::PathMatch{api::PathMatchType::kExact, "/admin"}};
  auto a = make({allow, deny});
  EXPECT_TRUE(a.check(http(kFrontend, "GET", "/api")).allowed);
  auto d = a.check(http(kFrontend, "GET", "/admin"));
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("rule 1 (DENY)"), std::string::npos) << d.reason;
}

TEST(AuthorizerTest, NamespacesComeFromTheSpiffeId) {
  auto allow = rule(api::AuthzAction::kAllow);
  allow.from.namespaces = {"ops"};
  auto a = make({allow});
  EXPECT_TRUE(a.check(http(kOps, "GET", "/")).allowed);
  EXPECT_FALSE(a.check(http(kFrontend, "GET", "/")).allowed);
  EXPECT_FALSE(a.check(http("spiffe://cluster.local/ops", "GET", "/")).allowed);
  EXPECT_EQ(namespaceOf(kOps), "ops");
  EXPECT_EQ(namespaceOf("spiffe://td/ns//sa/x"), std::nullopt);
  EXPECT_EQ(namespaceOf("https://td/ns/a/sa/x"), std::nullopt);
}

TEST(AuthorizerTest, PortsMethodsAndPathsAllMustHold) {
  auto allow = rule(api::AuthzAction::kAllow);
  allow.ports = {8080};
  allow.methods = {"GET"};
  allow.paths = {api::PathMatch{api::PathMatchType::kPathPrefix, "/api"},
                 api::PathMatch{api::PathMatchType::kRegularExpression, "/v[0-9]+/.*"}};
  auto a = make({allow});
  EXPECT_TRUE(a.check(http(kFrontend, "GET", "/api/x")).allowed);
  EXPECT_TRUE(a.check(http(kFrontend, "GET", "/v2/y")).allowed);
  EXPECT_FALSE(a.check(http(kFrontend, "GET", "/apix")).allowed);
  EXPECT_FALSE(a.check(http(kFrontend, "POST", "/api/x")).allowed);
  EXPECT_FALSE(a.check(http(kFrontend, "GET", "/api/x", 9090)).allowed);
  // A TCP connection has no method or path: rules that need them never match.
  Request tcp;
  tcp.peer = kFrontend;
  tcp.port = 8080;
  EXPECT_FALSE(a.check(tcp).allowed);
}

TEST(AuthorizerTest, ABadPathIsRefusedNamingTheRule) {
  auto allow = rule(api::AuthzAction::kAllow);
  allow.paths = {api::PathMatch{api::PathMatchType::kExact, "no-slash"}};
  auto a = Authorizer::create(api::Authorization{{rule(api::AuthzAction::kDeny), allow}});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("rules[1].paths[0]"), std::string::npos) << a.error().message;
}

}  // namespace
}  // namespace weft::proxy::authz
