// The discovery server's certificate from the mesh issuer: its names, when a
// new one is made, and that a proxy holding only the trust bundle verifies it.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "operator/src/identity/keeper.h"

namespace weft::op::identity {
namespace {

using namespace std::chrono_literals;
const SystemTime kNow = std::chrono::system_clock::now();

IssuerPtr meshIssuer(const CaFiles& files, SystemTime at = kNow) {
  auto issuer = loadIssuer(files, at);
  EXPECT_TRUE(issuer.ok()) << issuer.error().describe();
  return issuer.ok() ? *issuer : nullptr;
}

// The leaf, verified the way a proxy does: the chain the server sends
// (leaf, issuer) against the trust bundle only, and the name it dialled.
void expectVerifies(const KeyPair& pair, const Issuer& issuer, const std::string& name,
                    SystemTime at = kNow) {
  auto chain = tls::parseCerts(pair.certPem);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u) << "leaf, then the issuer";
  std::vector<tls::Cert> roots;
  for (const auto& pem : issuer.trustBundle) {
    roots.push_back(tls::parseCert(pem).value());
  }
  auto ok = tls::verifyChain((*chain)[0], std::span(chain->data() + 1, 1), roots, at);
  EXPECT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(X509_check_host((*chain)[0].get(), name.data(), name.size(),
                            X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr),
            1)
      << name;
  EXPECT_FALSE(tls::spiffeId((*chain)[0]).has_value()) << "never a workload identity";
  auto key = tls::parsePrivateKey(pair.keyPem);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(tls::keyMatches((*chain)[0], *key));
}

TEST(DiscoveryCert, NamesFollowTheNamespaceAndTakeCheckedExtras) {
  auto names = discoveryNames(
      "mesh-system", {"weft-control.example.com", "localhost", "weft-control.mesh-system.svc"});
  ASSERT_TRUE(names.ok()) << names.error().describe();
  EXPECT_EQ(*names, (std::vector<std::string>{"weft-control.mesh-system.svc",
                                              "weft-control.mesh-system.svc.cluster.local",
                                              "weft-control.example.com", "localhost"}));
  const std::vector<std::string> bad{
      "Weft.example.com",  "*.example.com", "a..b", "-a.b", "a-.b", "", "127.0.0.1", "a_b.c",
      std::string(64, 'a')};
  for (const auto& name : bad) {
    auto refused = discoveryNames("weft", {name});
    ASSERT_FALSE(refused.ok()) << name;
    EXPECT_NE(refused.error().message.find("DNS name"), std::string::npos);
  }
}

TEST(DiscoveryCert, IssuedByTheMeshIssuerAndKeptWhileGood) {
  auto files = createCa(kNow);
  ASSERT_TRUE(files.ok());
  auto issuer = meshIssuer(*files);
  ASSERT_TRUE(issuer);
  auto names = discoveryNames("weft", {}).value();
  auto first = syncDiscoveryCert(*issuer, names, "", kNow, 24h);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_TRUE(first->has_value());
  expectVerifies(**first, *issuer, "weft-control.weft.svc");
  expectVerifies(**first, *issuer, "weft-control.weft.svc.cluster.local");
  auto leaf = tls::parseCert((*first)->certPem).value();
  EXPECT_LE(tls::notAfter(leaf), kNow + 24h);
  EXPECT_GE(tls::notAfter(leaf), kNow + 24h - 1s);

  // Good for 2/3 of its life; then a new one.
  EXPECT_FALSE(syncDiscoveryCert(*issuer, names, (*first)->certPem, kNow + 10h, 24h)->has_value());
  auto due = syncDiscoveryCert(*issuer, names, (*first)->certPem, kNow + 17h, 24h);
  ASSERT_TRUE(due.ok() && due->has_value());
  EXPECT_NE((*due)->certPem, (*first)->certPem);
  expectVerifies(**due, *issuer, "weft-control.weft.svc", kNow + 17h);
  // Garbage in memory is replaced, never served.
  EXPECT_TRUE(syncDiscoveryCert(*issuer, names, "junk", kNow, 24h)->has_value());
}

TEST(DiscoveryCert, ShortLifetimesAreNotDueAtBirth) {
  auto files = createCa(kNow);
  auto issuer = meshIssuer(files.value());
  auto names = discoveryNames("weft", {}).value();
  auto made = syncDiscoveryCert(*issuer, names, "", kNow, 8s);
  ASSERT_TRUE(made.ok() && made->has_value());
  auto leaf = tls::parseCert((*made)->certPem).value();
  EXPECT_FALSE(dueForRenewal(leaf, kNow + 1s));
  EXPECT_TRUE(dueForRenewal(leaf, kNow + 6s));
  EXPECT_GT(renewalTime(leaf), kNow + 3s);
  EXPECT_LT(renewalTime(leaf), tls::notAfter(leaf));
}

// A renewed issuer (new key, same root) or a new root: a new certificate from
// the issuer in use, still verified by the bundle that trusts it.
TEST(DiscoveryCert, ANewIssuerMeansANewCertificate) {
  auto files = createCa(kNow);
  ASSERT_TRUE(files.ok());
  auto issuer = meshIssuer(*files);
  auto names = discoveryNames("weft", {}).value();
  auto first = syncDiscoveryCert(*issuer, names, "", kNow, 24h).value();
  ASSERT_TRUE(first.has_value());

  auto renewedFiles = renewIssuer(*files, kNow);
  ASSERT_TRUE(renewedFiles.ok());
  auto renewed = meshIssuer(*renewedFiles);
  auto second = syncDiscoveryCert(*renewed, names, first->certPem, kNow, 24h);
  ASSERT_TRUE(second.ok() && second->has_value()) << "signed by the previous issuer's key";
  expectVerifies(**second, *renewed, "weft-control.weft.svc");

  auto rotated = createCa(kNow);
  auto next = meshIssuer(rotated.value());
  auto third = syncDiscoveryCert(*next, names, (*second)->certPem, kNow, 24h);
  ASSERT_TRUE(third.ok() && third->has_value());
  expectVerifies(**third, *next, "weft-control.weft.svc");
}

TEST(DiscoveryCert, NeverOutlivesTheIssuer) {
  // An issuer made 364 days ago has about a day left.
  auto files = createCa(kNow - 24h * 364);
  auto issuer = meshIssuer(files.value());
  auto made = syncDiscoveryCert(*issuer, discoveryNames("weft", {}).value(), "", kNow, 24h * 30);
  ASSERT_TRUE(made.ok() && made->has_value());
  auto leaf = tls::parseCert((*made)->certPem).value();
  EXPECT_LE(tls::notAfter(leaf), tls::notAfter(issuer->cert));
  // Past the issuer's end there is nothing to sign with: an error, not a
  // certificate that is born expired.
  auto late = syncDiscoveryCert(*issuer, discoveryNames("weft", {}).value(), (*made)->certPem,
                                tls::notAfter(issuer->cert) + 1s, 24h);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
}

}  // namespace
}  // namespace weft::op::identity
