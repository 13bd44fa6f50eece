// The mesh CA's lifecycle with real certificates: made from nothing, loaded,
// renewed under the same root, refused when inconsistent.
#include "operator/src/identity/ca.h"

#include <gtest/gtest.h>

namespace weft::op::identity {
namespace {

using namespace std::chrono_literals;
const SystemTime kNow = std::chrono::system_clock::now();

TEST(Ca, CreatedRootAndIssuerLoadAndChain) {
  auto files = createCa(kNow);
  ASSERT_TRUE(files.ok()) << files.error().describe();
  EXPECT_FALSE(files->rootKeyPem.empty());
  auto issuer = loadIssuer(*files, kNow);
  ASSERT_TRUE(issuer.ok()) << issuer.error().describe();
  ASSERT_EQ((*issuer)->trustBundle.size(), 1u);
  auto root = tls::parseCert((*issuer)->trustBundle[0]);
  ASSERT_TRUE(root.ok());
  EXPECT_GT(tls::notAfter(*root), kNow + 24h * 3600);
  EXPECT_GT(tls::notAfter((*issuer)->cert), kNow + 24h * 360);
  EXPECT_LT(tls::notAfter((*issuer)->cert), kNow + 24h * 370);
  EXPECT_FALSE(dueForRenewal((*issuer)->cert, kNow));
  EXPECT_TRUE(dueForRenewal((*issuer)->cert, kNow + 24h * 250));
}

TEST(Ca, RenewalKeepsTheRoot) {
  auto files = createCa(kNow);
  ASSERT_TRUE(files.ok());
  SystemTime later = kNow + 24h * 250;
  auto renewed = renewIssuer(*files, later);
  ASSERT_TRUE(renewed.ok()) << renewed.error().describe();
  EXPECT_EQ(renewed->caPem, files->caPem);
  EXPECT_EQ(renewed->rootKeyPem, files->rootKeyPem);
  EXPECT_NE(renewed->certPem, files->certPem);
  EXPECT_NE(renewed->keyPem, files->keyPem);
  auto issuer = loadIssuer(*renewed, later);
  ASSERT_TRUE(issuer.ok()) << issuer.error().describe();
  EXPECT_FALSE(dueForRenewal((*issuer)->cert, later));
  // A workload chain from the new issuer verifies against the old root.
  auto key = tls::generateKey();
  ASSERT_TRUE(key.ok());
  tls::CertSpec leaf;
  leaf.spiffeId = "spiffe://cluster.local/ns/demo/sa/web";
  leaf.notBefore = later - 1h;
  leaf.notAfter = later + 24h;
  auto cert = tls::sign(leaf, *key, (*issuer)->cert, (*issuer)->key);
  ASSERT_TRUE(cert.ok());
  auto roots = tls::parseCerts(files->caPem);
  ASSERT_TRUE(roots.ok());
  auto chain = tls::parseCerts((*issuer)->certPem);
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(tls::verifyChain(*cert, *chain, *roots, later).ok());
}

TEST(Ca, UserIssuerWithoutRootKeyIsNotRenewed) {
  auto files = createCa(kNow);
  ASSERT_TRUE(files.ok());
  files->rootKeyPem.clear();
  auto renewed = renewIssuer(*files, kNow);
  ASSERT_FALSE(renewed.ok());
  EXPECT_NE(renewed.error().message.find("root.key"), std::string::npos);
  EXPECT_TRUE(loadIssuer(*files, kNow).ok());
}

TEST(Ca, InconsistentFilesAreRefused) {
  auto a = createCa(kNow);
  auto b = createCa(kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  CaFiles wrongKey = *a;
  wrongKey.keyPem = b->keyPem;
  auto r1 = loadIssuer(wrongKey, kNow);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("not the key"), std::string::npos);
  CaFiles foreignRoot = *a;
  foreignRoot.caPem = b->caPem;
  auto r2 = loadIssuer(foreignRoot, kNow);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("does not chain"), std::string::npos);
  EXPECT_FALSE(loadIssuer(*a, kNow + 24h * 366).ok()) << "an expired issuer must not load";
}

TEST(Ca, TrustBundleKeepsOnlyValidRoots) {
  auto current = createCa(kNow);
  auto old = createCa(kNow - 24h * 3600);      // expires in 50 days: still trusted
  auto expired = createCa(kNow - 24h * 3651);  // expired yesterday
  ASSERT_TRUE(current.ok() && old.ok() && expired.ok());
  auto roots = validRoots(current->caPem + expired->caPem + old->caPem, kNow);
  ASSERT_TRUE(roots.ok());
  ASSERT_EQ(roots->size(), 2u);
  EXPECT_EQ((*roots)[0], current->caPem);
  EXPECT_EQ((*roots)[1], old->caPem);
  EXPECT_FALSE(validRoots(expired->caPem, kNow).ok());
}

// A trust-anchor rotation as docs/operator.md tells it: the new root beside
// the old in ca.crt, then the issuer switched to one under the new root,
// then the old root dropped. Leaves of either issuer verify while both roots
// are trusted; root.key (the old root's) never pulls the issuer back.
TEST(Ca, TrustAnchorRotation) {
  auto old = createCa(kNow);
  auto next = createCa(kNow);
  ASSERT_TRUE(old.ok() && next.ok());
  auto leafOf = [](const Issuer& issuer) {
    auto key = tls::generateKey();
    tls::CertSpec spec;
    spec.spiffeId = "spiffe://cluster.local/ns/demo/sa/web";
    spec.notBefore = kNow - 1h;
    spec.notAfter = kNow + 24h;
    return tls::sign(spec, *key, issuer.cert, issuer.key).value();
  };
  auto verifies = [](const tls::Cert& leaf, const Issuer& issuer,
                     const std::vector<std::string>& bundle) {
    std::vector<tls::Cert> roots;
    for (const auto& pem : bundle) {
      roots.push_back(tls::parseCert(pem).value());
    }
    auto mid = tls::parseCerts(issuer.certPem).value();
    return tls::verifyChain(leaf, mid, roots, kNow).ok();
  };

  CaFiles both = *old;
  both.caPem = old->caPem + next->caPem;
  auto before = loadIssuer(both, kNow);
  ASSERT_TRUE(before.ok()) << before.error().describe();
  EXPECT_EQ((*before)->trustBundle.size(), 2u);
  EXPECT_TRUE(ownsIssuer(both));
  auto oldLeaf = leafOf(**before);

  CaFiles switched = both;
  switched.certPem = next->certPem;
  switched.keyPem = next->keyPem;
  auto after = loadIssuer(switched, kNow);
  ASSERT_TRUE(after.ok()) << after.error().describe();
  ASSERT_EQ((*after)->trustBundle.size(), 2u);
  auto newLeaf = leafOf(**after);
  EXPECT_TRUE(verifies(oldLeaf, **before, (*after)->trustBundle));
  EXPECT_TRUE(verifies(newLeaf, **after, (*after)->trustBundle));
  EXPECT_FALSE(ownsIssuer(switched)) << "root.key is the old root's";
  auto renewed = renewIssuer(switched, kNow + 24h * 250);
  ASSERT_FALSE(renewed.ok()) << "renewing under the old root would undo the rotation";
  EXPECT_NE(renewed.error().message.find("owner"), std::string::npos);
  switched.rootKeyPem = next->rootKeyPem;
  EXPECT_TRUE(ownsIssuer(switched)) << "with the new root's key the operator renews again";

  CaFiles dropped = switched;
  dropped.caPem = next->caPem;
  auto last = loadIssuer(dropped, kNow);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ((*last)->trustBundle.size(), 1u);
  EXPECT_TRUE(verifies(newLeaf, **last, (*last)->trustBundle));
  EXPECT_FALSE(verifies(oldLeaf, **before, (*last)->trustBundle));
}

TEST(Ca, ServingCertificateForTheInjector) {
  auto ca = createSelfSignedCa("weft-injector-ca", kNow);
  ASSERT_TRUE(ca.ok());
  auto leaf =
      issueServing({"weft-injector.weft.svc", "weft-injector.weft.svc.cluster.local"}, *ca, kNow);
  ASSERT_TRUE(leaf.ok()) << leaf.error().describe();
  auto cert = tls::parseCert(leaf->certPem);
  auto root = tls::parseCerts(ca->certPem);
  ASSERT_TRUE(cert.ok() && root.ok());
  EXPECT_TRUE(tls::verifyChain(*cert, {}, *root, kNow).ok());
  EXPECT_LE(tls::notAfter(*cert), kNow + 24h * 90);
}

}  // namespace
}  // namespace weft::op::identity
