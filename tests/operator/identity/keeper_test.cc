// The operator's certificates in Kubernetes, against the fake API server over
// real HTTP: the issuer Secret made when absent, used as is when a user made
// it, renewed keeping the root; the trust bundle ConfigMap; the injector's
// Secrets and the webhook's caBundle; a follower never writes.
#include "operator/src/identity/keeper.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/file.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/resource.h"
#include "common/strings.h"
#include "operator/src/identity/token_review.h"
#include "tests/fakes/fake_apiserver.h"

namespace weft::op::identity {
namespace {

using namespace std::chrono_literals;
using json::Json;
namespace res = kube::resources;

class KeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = weft::testing::FakeApiServer::start();
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    kube::KubeConfig config;
    config.server = server_->url();
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok()) << api.error().describe();
    api_ = std::move(*api);
  }
  std::string secretField(const std::string& name, const std::string& key) {
    auto s = api_->get(res::secrets(), "weft", name);
    if (!s.ok()) {
      return "";
    }
    auto v = json::getStringOr(*s, "/data/" + key, "");
    auto d = base64Decode(v.valueOr(""));
    return d.ok() ? *d : "";
  }

  SystemTime now_ = std::chrono::system_clock::now();
  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::unique_ptr<kube::KubeApi> api_;
};

TEST_F(KeeperTest, LeaderCreatesTheIssuerAndPublishesTheBundle) {
  auto issuer = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(issuer.ok()) << issuer.error().describe();
  auto secret = api_->get(res::secrets(), "weft", kIssuerSecret);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ((*secret)["type"], "kubernetes.io/tls");
  EXPECT_EQ(secretField(kIssuerSecret, "tls.crt"), (*issuer)->certPem);
  EXPECT_FALSE(secretField(kIssuerSecret, "root.key").empty());
  auto cm = api_->get(res::configMaps(), "weft", kTrustBundleConfigMap);
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ((*cm)["data"]["ca-bundle.crt"], (*issuer)->trustBundle.at(0));
  EXPECT_EQ((*cm)["data"]["issuer.crt"], (*issuer)->certPem) << "public, for weftctl check";
  // A second sync changes nothing.
  std::string rv = kube::resourceVersionOf(*secret);
  std::string cmRv = kube::resourceVersionOf(*cm);
  auto again = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->certPem, (*issuer)->certPem);
  EXPECT_EQ(kube::resourceVersionOf(*api_->get(res::secrets(), "weft", kIssuerSecret)), rv);
  EXPECT_EQ(kube::resourceVersionOf(*api_->get(res::configMaps(), "weft", kTrustBundleConfigMap)),
            cmRv);
}

TEST_F(KeeperTest, FollowerWaitsForTheLeader) {
  auto issuer = syncKubeIssuer(*api_, "weft", false, now_);
  ASSERT_FALSE(issuer.ok());
  EXPECT_EQ(issuer.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(api_->get(res::secrets(), "weft", kIssuerSecret).ok());
  ASSERT_TRUE(syncKubeIssuer(*api_, "weft", true, now_).ok());
  EXPECT_TRUE(syncKubeIssuer(*api_, "weft", false, now_).ok());
}

TEST_F(KeeperTest, UserProvidedIssuerIsUsedAsIs) {
  auto files = createCa(now_ - 24h * 300);  // well past 2/3 of the issuer's life
  ASSERT_TRUE(files.ok());
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", kIssuerSecret}, {"namespace", "weft"}}},
                 {"type", "kubernetes.io/tls"},
                 {"data",
                  {{"tls.crt", base64Encode(files->certPem)},
                   {"tls.key", base64Encode(files->keyPem)},
                   {"ca.crt", base64Encode(files->caPem)}}}};
  ASSERT_TRUE(api_->create(res::secrets(), "weft", secret).ok());
  auto issuer = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(issuer.ok()) << issuer.error().describe();
  EXPECT_EQ((*issuer)->certPem, files->certPem) << "no root.key: never re-issued";
  EXPECT_EQ(secretField(kIssuerSecret, "tls.crt"), files->certPem);
}

TEST_F(KeeperTest, OnlyCertificatesOfTheIssuerArePublished) {
  auto files = createCa(now_);
  ASSERT_TRUE(files.ok());
  // A user who pasted the key into tls.crt too: the ConfigMap must not carry it.
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", kIssuerSecret}, {"namespace", "weft"}}},
                 {"type", "kubernetes.io/tls"},
                 {"data",
                  {{"tls.crt", base64Encode(files->certPem + files->keyPem)},
                   {"tls.key", base64Encode(files->keyPem)},
                   {"ca.crt", base64Encode(files->caPem)}}}};
  ASSERT_TRUE(api_->create(res::secrets(), "weft", secret).ok());
  ASSERT_TRUE(syncKubeIssuer(*api_, "weft", true, now_).ok());
  auto cm = api_->get(res::configMaps(), "weft", kTrustBundleConfigMap);
  ASSERT_TRUE(cm.ok());
  std::string published = (*cm)["data"]["issuer.crt"].get<std::string>();
  EXPECT_EQ(published, files->certPem);
  EXPECT_EQ(published.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(KeeperTest, LeaderRenewsItsOwnIssuerKeepingTheRoot) {
  auto first = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(first.ok());
  std::string root = secretField(kIssuerSecret, "ca.crt");
  SystemTime later = now_ + 24h * 250;
  EXPECT_TRUE(syncKubeIssuer(*api_, "weft", false, later).ok());
  EXPECT_EQ(secretField(kIssuerSecret, "tls.crt"), (*first)->certPem) << "followers never renew";
  auto renewed = syncKubeIssuer(*api_, "weft", true, later);
  ASSERT_TRUE(renewed.ok()) << renewed.error().describe();
  EXPECT_NE((*renewed)->certPem, (*first)->certPem);
  EXPECT_EQ(secretField(kIssuerSecret, "tls.crt"), (*renewed)->certPem);
  EXPECT_EQ(secretField(kIssuerSecret, "ca.crt"), root);
  EXPECT_EQ((*renewed)->trustBundle, (*first)->trustBundle);
  auto cm = api_->get(res::configMaps(), "weft", kTrustBundleConfigMap);
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ((*cm)["data"]["issuer.crt"], (*renewed)->certPem) << "the renewed issuer is published";
}

// The rotation steps of docs/operator.md on the Secret: both roots
// published while the issuer moves to the new one; the operator keeps the
// user's issuer although root.key is still the old root's; then the old root
// leaves the ConfigMap.
TEST_F(KeeperTest, TrustAnchorRotationInTheSecret) {
  auto first = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(first.ok());
  std::string oldRoot = secretField(kIssuerSecret, "ca.crt");
  auto next = createCa(now_);
  ASSERT_TRUE(next.ok());
  auto patch = [&](const std::map<std::string, std::string>& fields) {
    auto secret = api_->get(res::secrets(), "weft", kIssuerSecret).value();
    for (const auto& [k, v] : fields) {
      secret["data"][k] = base64Encode(v);
    }
    ASSERT_TRUE(api_->update(res::secrets(), secret).ok());
  };
  auto bundle = [&] {
    auto cm = api_->get(res::configMaps(), "weft", kTrustBundleConfigMap);
    return cm.ok() ? (*cm)["data"]["ca-bundle.crt"].get<std::string>() : std::string();
  };

  patch({{"ca.crt", oldRoot + next->caPem}});
  ASSERT_TRUE(syncKubeIssuer(*api_, "weft", true, now_).ok());
  EXPECT_EQ(bundle(), oldRoot + next->caPem);

  patch({{"tls.crt", next->certPem}, {"tls.key", next->keyPem}});
  auto switched = syncKubeIssuer(*api_, "weft", true, now_ + 24h * 250);  // "due"
  ASSERT_TRUE(switched.ok()) << switched.error().describe();
  EXPECT_EQ((*switched)->certPem, next->certPem);
  EXPECT_EQ(secretField(kIssuerSecret, "tls.crt"), next->certPem) << "never re-issued";
  EXPECT_EQ((*switched)->trustBundle.size(), 2u);

  patch({{"ca.crt", next->caPem}});
  auto last = syncKubeIssuer(*api_, "weft", true, now_);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(bundle(), next->caPem);
  EXPECT_EQ((*last)->trustBundle, std::vector<std::string>{next->caPem});
}

TEST_F(KeeperTest, InjectorSecretAndWebhookCaBundle) {
  Json hook = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "MutatingWebhookConfiguration"},
      {"metadata", {{"name", kInjectorWebhook}}},
      {"webhooks",
       {{{"name", "pods.weft.io"},
         {"clientConfig", {{"service", {{"name", "weft-injector"}, {"namespace", "weft"}}}}}}}}};
  ASSERT_TRUE(api_->create(res::mutatingWebhookConfigurations(), "", hook).ok());
  auto expiry = syncInjectorCerts(*api_, "weft", now_);
  ASSERT_TRUE(expiry.ok()) << expiry.error().describe();
  EXPECT_LE(*expiry, now_ + 24h * 90);
  std::string ca = secretField(kInjectorTlsSecret, "ca.crt");
  auto leaf = tls::parseCert(secretField(kInjectorTlsSecret, "tls.crt"));
  auto roots = tls::parseCerts(ca);
  ASSERT_TRUE(leaf.ok() && roots.ok());
  EXPECT_TRUE(tls::verifyChain(*leaf, {}, *roots, now_).ok());
  EXPECT_TRUE(
      tls::keyMatches(*leaf, *tls::parsePrivateKey(secretField(kInjectorTlsSecret, "tls.key"))));
  auto patched = api_->get(res::mutatingWebhookConfigurations(), "", kInjectorWebhook);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["webhooks"][0]["clientConfig"]["caBundle"], base64Encode(ca));
  EXPECT_EQ((*patched)["webhooks"][0]["clientConfig"]["service"]["name"], "weft-injector");

  // Near the leaf's end: a new leaf from the same CA; nothing else moves.
  std::string oldLeaf = secretField(kInjectorTlsSecret, "tls.crt");
  ASSERT_TRUE(syncInjectorCerts(*api_, "weft", now_ + 24h * 70).ok());
  EXPECT_NE(secretField(kInjectorTlsSecret, "tls.crt"), oldLeaf);
  EXPECT_EQ(secretField(kInjectorTlsSecret, "ca.crt"), ca);

  // The CA itself rotates: old and new CA in the bundle, patched into the webhook.
  SystemTime late = now_ + 24h * 2500;
  ASSERT_TRUE(syncInjectorCerts(*api_, "weft", late).ok());
  auto bundle = tls::parseCerts(secretField(kInjectorTlsSecret, "ca.crt"));
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->size(), 2u);
  auto rotated = api_->get(res::mutatingWebhookConfigurations(), "", kInjectorWebhook);
  EXPECT_EQ((*rotated)["webhooks"][0]["clientConfig"]["caBundle"],
            base64Encode(secretField(kInjectorTlsSecret, "ca.crt")));
  auto newLeaf = tls::parseCert(secretField(kInjectorTlsSecret, "tls.crt"));
  EXPECT_TRUE(tls::verifyChain(*newLeaf, {}, *bundle, late).ok());
}

TEST_F(KeeperTest, TokenReviewThroughTheApi) {
  server_->state().addToken("good", "system:serviceaccount:demo:web", {kAudience});
  server_->state().addToken("other-audience", "system:serviceaccount:demo:web", {"api"});
  server_->state().addToken("person", "jane", {kAudience});
  auto reviewer = makeKubeTokenReviewer(*api_);
  auto sa = reviewer->review("good");
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  EXPECT_EQ(sa->ns, "demo");
  EXPECT_EQ(sa->name, "web");
  for (const char* bad : {"unknown", "other-audience", "person"}) {
    auto r = reviewer->review(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << bad;
  }
  EXPECT_NE(reviewer->review("other-audience").error().message.find("invalid for the target"),
            std::string::npos);
  server_->state().injectError("/apis/authentication.k8s.io", 500, 1);
  EXPECT_EQ(reviewer->review("good").error().code, ErrorCode::kUnavailable);
}

TEST(DirIssuer, MadeWhenAbsentThenReadBack) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("weft-issuer-dir-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto now = std::chrono::system_clock::now();
  auto first = syncDirIssuer((dir / "ca").string(), now);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  for (const char* f : {"tls.crt", "tls.key", "ca.crt", "root.key"}) {
    EXPECT_TRUE(fs::exists(dir / "ca" / f)) << f;
  }
  EXPECT_EQ(fs::status(dir / "ca" / "tls.key").permissions() & fs::perms::others_read,
            fs::perms::none);
  auto again = syncDirIssuer((dir / "ca").string(), now);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->certPem, (*first)->certPem);
  ASSERT_TRUE(writeFileAtomic((dir / "ca" / "tls.key").string(), "garbage").ok());
  EXPECT_FALSE(syncDirIssuer((dir / "ca").string(), now).ok());
  fs::remove_all(dir);
}

// A user rotates the anchor in --issuer-dir and leaves the old root.key
// behind: the operator serves the new issuer and, once it is due, leaves its
// renewal to the user instead of re-issuing it under the old root.
TEST(DirIssuer, AUserRotationIsNeverUndone) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("weft-issuer-rot-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto now = std::chrono::system_clock::now();
  auto first = syncDirIssuer(dir.string(), now);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  auto next = createCa(now);
  ASSERT_TRUE(next.ok());
  auto oldRoot = readFile((dir / "ca.crt").string());
  ASSERT_TRUE(oldRoot.ok());
  ASSERT_TRUE(writeFileAtomic((dir / "ca.crt").string(), *oldRoot + next->caPem).ok());
  ASSERT_TRUE(writeFileAtomic((dir / "tls.key").string(), next->keyPem).ok());
  ASSERT_TRUE(writeFileAtomic((dir / "tls.crt").string(), next->certPem).ok());
  auto switched = syncDirIssuer(dir.string(), now);
  ASSERT_TRUE(switched.ok()) << switched.error().describe();
  EXPECT_EQ((*switched)->certPem, next->certPem);
  EXPECT_EQ((*switched)->trustBundle.size(), 2u);
  auto due = syncDirIssuer(dir.string(), now + 24h * 250);
  ASSERT_TRUE(due.ok()) << due.error().describe();
  EXPECT_EQ((*due)->certPem, next->certPem);
  EXPECT_EQ(*readFile((dir / "tls.crt").string()), next->certPem);
  fs::remove_all(dir);
}

TEST(FileTokens, MapTokensToServiceAccounts) {
  namespace fs = std::filesystem;
  fs::path file =
      fs::temp_directory_path() / ("weft-tokens-" + std::to_string(::getpid()) + ".yaml");
  ASSERT_TRUE(writeFileAtomic(file.string(), "tokens:\n  t1: demo/web\n  t2: nonsense\n").ok());
  auto reviewer = makeFileTokenReviewer(file.string());
  auto sa = reviewer->review("t1");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->ns, "demo");
  EXPECT_EQ(sa->name, "web");
  EXPECT_EQ(reviewer->review("nope").error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(reviewer->review("t2").error().message.find("NAMESPACE/SERVICEACCOUNT"),
            std::string::npos);
  fs::remove(file);
}

}  // namespace
}  // namespace weft::op::identity
