// Who may subscribe: chains checked with real certificates from two CAs, and
// the decision for every kind of subscriber and stream.
#include "operator/src/discovery/client_auth.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_control_plane.h"

namespace weft::op::discovery {
namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* kWeb = "spiffe://cluster.local/ns/demo/sa/web";

class ClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mesh = weft::testing::MeshCa::create("mesh");
    auto foreign = weft::testing::MeshCa::create("foreign");
    ASSERT_TRUE(mesh.ok() && foreign.ok());
    mesh_ = std::make_unique<weft::testing::MeshCa>(std::move(*mesh));
    foreign_ = std::make_unique<weft::testing::MeshCa>(std::move(*foreign));
    ASSERT_TRUE(anchors_.set({mesh_->rootPem}).ok());
  }
  // The leaf `id` from `ca`, valid in [now+from, now+to], and its issuer.
  Presented check(const weft::testing::MeshCa& ca, const std::string& id,
                  Clock::duration from = -1h, Clock::duration to = 1h) {
    auto now = Clock::now();
    auto leaf = ca.issue(id, now + from, now + to);
    EXPECT_TRUE(leaf.ok());
    auto cert = tls::parseCert(leaf->first);
    auto issuer = tls::parseCerts(ca.issuerPem);
    EXPECT_TRUE(cert.ok() && issuer.ok());
    return checkChain(&*cert, *issuer, anchors_.roots(), now);
  }
  static MeshFacts facts(std::optional<std::string> podIdentity = std::nullopt) {
    return MeshFacts{true, "cluster.local", std::move(podIdentity)};
  }

  std::unique_ptr<weft::testing::MeshCa> mesh_;
  std::unique_ptr<weft::testing::MeshCa> foreign_;
  TrustAnchors anchors_;
};

TEST_F(ClientAuthTest, ModesParse) {
  EXPECT_EQ(parseClientAuth("require").value(), ClientAuth::kRequire);
  EXPECT_EQ(parseClientAuth("optional").value(), ClientAuth::kOptional);
  auto bad = parseClientAuth("sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'sometimes'"), std::string::npos);
}

TEST_F(ClientAuthTest, ChainsAreCheckedAgainstTheBundle) {
  auto good = check(*mesh_, kWeb);
  EXPECT_EQ(good.kind, Presented::Kind::kValid) << good.why;
  EXPECT_EQ(good.spiffeId, kWeb);
  EXPECT_GT(good.notAfter, Clock::now());

  auto foreign = check(*foreign_, kWeb);
  EXPECT_EQ(foreign.kind, Presented::Kind::kInvalid);
  EXPECT_NE(foreign.why.find("issuer"), std::string::npos) << foreign.why;

  auto expired = check(*mesh_, kWeb, -2h, -1h);
  EXPECT_EQ(expired.kind, Presented::Kind::kInvalid);
  EXPECT_NE(expired.why.find("expired"), std::string::npos) << expired.why;

  EXPECT_EQ(checkChain(nullptr, {}, anchors_.roots(), Clock::now()).kind, Presented::Kind::kNone);
  // Both roots trusted (an anchor rotation): both CAs' leaves pass.
  ASSERT_TRUE(anchors_.set({mesh_->rootPem, foreign_->rootPem}).ok());
  EXPECT_EQ(check(*foreign_, kWeb).kind, Presented::Kind::kValid);
}

TEST_F(ClientAuthTest, ABundleThatDoesNotParseKeepsThePreviousRoots) {
  auto bad = anchors_.set({"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"});
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(anchors_.loaded());
  EXPECT_EQ(check(*mesh_, kWeb).kind, Presented::Kind::kValid);
}

TEST_F(ClientAuthTest, RequireRefusesAnonymousOptionalLetsItIn) {
  Presented none;
  auto r = authorize(ClientAuth::kRequire, none, Stream::kOutbound, "a:80", facts());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->reason, "no_certificate");
  EXPECT_FALSE(authorize(ClientAuth::kOptional, none, Stream::kOutbound, "a:80", facts()));
  EXPECT_FALSE(authorize(ClientAuth::kOptional, none, Stream::kInbound, "demo/web-1", facts()));
}

TEST_F(ClientAuthTest, APresentedCertificateIsCheckedInBothModes) {
  auto foreign = check(*foreign_, kWeb);
  for (auto mode : {ClientAuth::kRequire, ClientAuth::kOptional}) {
    auto r = authorize(mode, foreign, Stream::kOutbound, "a:80", facts());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->reason, "invalid_certificate");
    EXPECT_NE(r->message.find("mesh trust bundle"), std::string::npos) << r->message;
  }
  // Before the bundle is loaded nothing can be checked: come back later.
  auto good = check(*mesh_, kWeb);
  MeshFacts early = facts();
  early.anchorsLoaded = false;
  auto r = authorize(ClientAuth::kRequire, good, Stream::kOutbound, "a:80", early);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->reason, "unavailable");
}

TEST_F(ClientAuthTest, OutboundTakesAnyWorkloadOfTheTrustDomain) {
  auto good = check(*mesh_, kWeb);
  EXPECT_FALSE(authorize(ClientAuth::kRequire, good, Stream::kOutbound, "a:80", facts()));
  auto elsewhere = check(*mesh_, "spiffe://example.org/ns/demo/sa/web");
  auto r = authorize(ClientAuth::kRequire, elsewhere, Stream::kOutbound, "a:80", facts());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->message.find("trust domain cluster.local"), std::string::npos) << r->message;
}

TEST_F(ClientAuthTest, InboundOnlyForThePodsOwnServiceAccount) {
  auto web = check(*mesh_, kWeb);
  EXPECT_FALSE(authorize(ClientAuth::kRequire, web, Stream::kInbound, "demo/web-1", facts(kWeb)));

  auto other = authorize(ClientAuth::kRequire, web, Stream::kInbound, "demo/db-0",
                         facts("spiffe://cluster.local/ns/demo/sa/db"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(other->reason, "forbidden");
  EXPECT_NE(other->message.find("demo/db-0"), std::string::npos) << other->message;
  EXPECT_NE(other->message.find("sa/db"), std::string::npos) << other->message;

  auto unknown = authorize(ClientAuth::kRequire, web, Stream::kInbound, "demo/ghost", facts());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 403);
  EXPECT_NE(unknown->message.find("not known"), std::string::npos) << unknown->message;

  // Optional mode does not make someone else's certificate good enough.
  EXPECT_TRUE(authorize(ClientAuth::kOptional, web, Stream::kInbound, "demo/db-0",
                        facts("spiffe://cluster.local/ns/demo/sa/db")));
}

}  // namespace
}  // namespace weft::op::discovery
