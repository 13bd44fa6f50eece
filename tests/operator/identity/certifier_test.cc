// Certify decisions with real CSRs and certificates: a good token and a
// matching CSR get a chain that verifies against the bundle; every refusal
// has its status and reason.
#include "operator/src/identity/certifier.h"

#include <map>

#include <gtest/gtest.h>

#include "common/json/json.h"

namespace weft::op::identity {
namespace {

using namespace std::chrono_literals;

class MapReviewer final : public TokenReviewer {
 public:
  Result<ServiceAccount> review(const std::string& token) override {
    ++calls;
    if (token == "down") {
      return makeError(ErrorCode::kUnavailable, "API server unreachable");
    }
    auto it = accounts.find(token);
    if (it == accounts.end()) {
      return makeError(ErrorCode::kUnauthenticated, "unknown token");
    }
    return it->second;
  }
  std::map<std::string, ServiceAccount> accounts{{"web-token", {"demo", "web"}}};
  int calls = 0;
};

class CertifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = createCa(now_);
    ASSERT_TRUE(files.ok());
    files_ = *files;
    auto issuer = loadIssuer(files_, now_);
    ASSERT_TRUE(issuer.ok());
    certifier_.setIssuer(*issuer);
  }
  std::string body(const std::string& id) {
    auto key = tls::generateKey();
    auto csr = tls::makeCsr(*key, id);
    return json::dump(json::Json{{"csr", *csr}});
  }
  CertifyAnswer ask(const std::string& token, const std::string& b) {
    return certifier_.certify("Bearer " + token, b, policy_, now_, steady_);
  }

  SystemTime now_ = std::chrono::system_clock::now();
  Certifier::Steady::time_point steady_{};
  CaFiles files_;
  MapReviewer reviewer_;
  Certifier certifier_{reviewer_, RateLimit{5, 20}};
  CertifyPolicy policy_{"cluster.local", 24h};
};

TEST_F(CertifierTest, GoodTokenAndMatchingCsrGetAChainThatVerifies) {
  auto a = ask("web-token", body("spiffe://cluster.local/ns/demo/sa/web"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.result, "issued");
  auto doc = json::parse(a.body);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["identity"], "spiffe://cluster.local/ns/demo/sa/web");
  ASSERT_EQ((*doc)["certificateChain"].size(), 2u);
  auto leaf = tls::parseCert((*doc)["certificateChain"][0].get<std::string>());
  auto mid = tls::parseCerts((*doc)["certificateChain"][1].get<std::string>());
  ASSERT_TRUE(leaf.ok() && mid.ok());
  ASSERT_EQ((*doc)["trustBundle"].size(), 1u);
  auto roots = tls::parseCerts((*doc)["trustBundle"][0].get<std::string>());
  ASSERT_TRUE(roots.ok());
  EXPECT_TRUE(tls::verifyChain(*leaf, *mid, *roots, now_).ok());
  EXPECT_EQ(tls::spiffeId(*leaf), "spiffe://cluster.local/ns/demo/sa/web");
  auto life = tls::notAfter(*leaf) - now_;
  EXPECT_GT(life, 23h);
  EXPECT_LE(life, 24h + 1s);
  EXPECT_TRUE((*doc)["notAfter"].get<std::string>().ends_with("Z"));
}

TEST_F(CertifierTest, TrustDomainAndLifetimeComeFromTheMesh) {
  policy_ = CertifyPolicy{"example.org", 2h};
  auto wrong = ask("web-token", body("spiffe://cluster.local/ns/demo/sa/web"));
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  auto a = ask("web-token", body("spiffe://example.org/ns/demo/sa/web"));
  ASSERT_EQ(a.status, 200) << a.body;
  auto leaf = tls::parseCert((*json::parse(a.body))["certificateChain"][0].get<std::string>());
  ASSERT_TRUE(leaf.ok());
  EXPECT_LE(tls::notAfter(*leaf) - now_, 2h + 1s);
}

TEST_F(CertifierTest, AnotherIdentityIsForbidden) {
  auto a = ask("web-token", body("spiffe://cluster.local/ns/demo/sa/admin"));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.result, "forbidden");
  EXPECT_NE(a.body.find("sa/admin"), std::string::npos) << a.body;
}

TEST_F(CertifierTest, BadOrMissingTokenIsUnauthenticated) {
  auto a = ask("stolen", body("spiffe://cluster.local/ns/demo/sa/web"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.result, "unauthenticated");
  auto b = certifier_.certify("", body("spiffe://cluster.local/ns/demo/sa/web"), policy_, now_);
  EXPECT_EQ(b.status, 401);
  EXPECT_NE(b.body.find("no bearer token"), std::string::npos);
  auto c = ask("down", body("spiffe://cluster.local/ns/demo/sa/web"));
  EXPECT_EQ(c.status, 503) << "a failed TokenReview is not the client's fault";
}

TEST_F(CertifierTest, MalformedRequestsAreBadRequestsWithoutATokenReview) {
  for (
      const std::string& b :
      {std::string("not json"), std::string("{}"), std::string(R"({"csr": 7})"),
       std::string(
           R"({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"})")}) {
    auto a = ask("web-token", b);
    EXPECT_EQ(a.status, 400) << b;
    EXPECT_EQ(a.result, "bad_request");
    EXPECT_TRUE(json::parse(a.body)->contains("error"));
  }
  EXPECT_EQ(reviewer_.calls, 0);
}

TEST_F(CertifierTest, NoIssuerYetIsUnavailable) {
  Certifier fresh(reviewer_);
  auto a = fresh.certify("Bearer web-token", body("spiffe://cluster.local/ns/demo/sa/web"), policy_,
                         now_);
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.result, "unavailable");
}

TEST_F(CertifierTest, RateLimitPerServiceAccount) {
  reviewer_.accounts["other-token"] = {"demo", "other"};
  std::string b = body("spiffe://cluster.local/ns/demo/sa/web");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ask("web-token", b).status, 200) << i;
  }
  auto limited = ask("web-token", b);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.result, "rate_limited");
  EXPECT_EQ(limited.retryAfterSeconds, 1);
  // Another account has its own bucket.
  EXPECT_EQ(ask("other-token", body("spiffe://cluster.local/ns/demo/sa/other")).status, 200);
  // 5/s: after a second, five more.
  steady_ += 1s;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ask("web-token", b).status, 200) << i;
  }
  EXPECT_EQ(ask("web-token", b).status, 429);
}

TEST(ServiceAccountUser, ParsesOnlyServiceAccounts) {
  auto sa = parseServiceAccountUser("system:serviceaccount:demo:web");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->ns, "demo");
  EXPECT_EQ(sa->name, "web");
  EXPECT_FALSE(parseServiceAccountUser("jane@example.com").ok());
  EXPECT_FALSE(parseServiceAccountUser("system:serviceaccount:demo").ok());
  EXPECT_FALSE(parseServiceAccountUser("system:serviceaccount:Demo:web").ok());
}

}  // namespace
}  // namespace weft::op::identity
