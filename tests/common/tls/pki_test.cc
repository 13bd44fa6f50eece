// PKI round trips with real OpenSSL objects: a root, an issuer, a workload
// certificate from a CSR, and the refusals the mesh CA relies on.
#include "common/tls/pki.h"

#include <gtest/gtest.h>

namespace weft::tls {
namespace {

using std::chrono::hours;

struct Ca {
  PKey rootKey, issuerKey;
  Cert root, issuer;
};

CertSpec caSpec(const std::string& cn, SystemTime now, int pathLength) {
  CertSpec s;
  s.commonName = cn;
  s.isCa = true;
  s.pathLength = pathLength;
  s.notBefore = now - hours(1);
  s.notAfter = now + hours(24 * 365);
  return s;
}

Ca makeCa(SystemTime now) {
  Ca ca;
  ca.rootKey = generateKey().value();
  ca.issuerKey = generateKey().value();
  ca.root = selfSign(caSpec("weft root", now, 1), ca.rootKey).value();
  ca.issuer = sign(caSpec("weft issuer", now, 0), ca.issuerKey, ca.root, ca.rootKey).value();
  return ca;
}

Cert issue(const Ca& ca, const std::string& csrPem, SystemTime now, hours lifetime = hours(24)) {
  auto req = parseCsr(csrPem);
  EXPECT_TRUE(req) << req.error().message;
  CertSpec s;
  s.spiffeId = req->spiffeId;
  s.notBefore = now - std::chrono::minutes(5);
  s.notAfter = now + lifetime;
  return sign(s, req->publicKey, ca.issuer, ca.issuerKey).value();
}

TEST(PkiTest, WorkloadCertificateFromACsrVerifiesAgainstTheRoot) {
  auto now = std::chrono::system_clock::now();
  Ca ca = makeCa(now);
  auto key = generateKey().value();
  std::string id = workloadId("cluster.local", "demo", "frontend");
  EXPECT_EQ(id, "spiffe://cluster.local/ns/demo/sa/frontend");
  Cert leaf = issue(ca, makeCsr(key, id).value(), now);

  EXPECT_EQ(spiffeId(leaf), id);
  EXPECT_TRUE(keyMatches(leaf, key));
  EXPECT_FALSE(keyMatches(leaf, ca.issuerKey));
  std::vector<Cert> intermediates;
  intermediates.push_back(parseCert(certPem(ca.issuer).value()).value());
  std::vector<Cert> roots;
  roots.push_back(parseCert(certPem(ca.root).value()).value());
  EXPECT_TRUE(verifyChain(leaf, intermediates, roots, now));
  EXPECT_NEAR(std::chrono::duration<double>(notAfter(leaf) - now).count(), 24 * 3600.0, 2.0);
  EXPECT_EQ(fingerprint(leaf).size(), 64u);
  EXPECT_NE(fingerprint(leaf), fingerprint(ca.root));
}

TEST(PkiTest, ExpiredAndForeignChainsAreRefusedWithTheReason) {
  auto now = std::chrono::system_clock::now();
  Ca ca = makeCa(now);
  Ca foreign = makeCa(now);
  auto key = generateKey().value();
  Cert leaf = issue(ca, makeCsr(key, workloadId("cluster.local", "a", "b")).value(), now, hours(1));
  std::vector<Cert> intermediates;
  intermediates.push_back(parseCert(certPem(ca.issuer).value()).value());
  std::vector<Cert> foreignRoots;
  foreignRoots.push_back(parseCert(certPem(foreign.root).value()).value());
  auto r = verifyChain(leaf, intermediates, foreignRoots, now);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("issuer"), std::string::npos) << r.error().message;

  std::vector<Cert> roots;
  roots.push_back(parseCert(certPem(ca.root).value()).value());
  auto late = verifyChain(leaf, intermediates, roots, now + hours(2));
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos) << late.error().message;
}

TEST(PkiTest, BundlesParseWholeAndKeysRoundTrip) {
  auto now = std::chrono::system_clock::now();
  Ca a = makeCa(now);
  Ca b = makeCa(now);
  auto bundle = parseCerts(certPem(a.root).value() + certPem(b.root).value());
  ASSERT_TRUE(bundle);
  EXPECT_EQ(bundle->size(), 2u);
  EXPECT_FALSE(parseCerts("not pem"));
  EXPECT_FALSE(parseCerts(certPem(a.root).value() + "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                    "-----END CERTIFICATE-----\n"));
  auto pem = privateKeyPem(a.issuerKey).value();
  EXPECT_NE(pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  auto back = parsePrivateKey(pem);
  ASSERT_TRUE(back);
  EXPECT_TRUE(keyMatches(a.issuer, *back));
  EXPECT_FALSE(parsePrivateKey("garbage"));
  EXPECT_FALSE(parseCert(""));
}

TEST(PkiTest, CertificatesOnlyDropsAKeyPastedAmongTheCertificates) {
  auto now = std::chrono::system_clock::now();
  Ca a = makeCa(now);
  std::string certs = certPem(a.issuer).value() + certPem(a.root).value();
  std::string key = privateKeyPem(a.issuerKey).value();
  auto only = certificatesOnly(certPem(a.issuer).value() + key + certPem(a.root).value());
  ASSERT_TRUE(only) << only.error().message;
  EXPECT_EQ(*only, certs);
  EXPECT_EQ(only->find("PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(certificatesOnly(key));
}

TEST(PkiTest, CsrsThatAskForTheWrongThingAreRefused) {
  auto key = generateKey().value();
  EXPECT_FALSE(
      parseCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
               "REQUEST-----\n"));
  auto notSpiffe = parseCsr(makeCsr(key, "https://example.com/x").value());
  ASSERT_FALSE(notSpiffe);
  EXPECT_NE(notSpiffe.error().message.find("SPIFFE"), std::string::npos);
  std::string csr = makeCsr(key, workloadId("cluster.local", "a", "b")).value();
  auto ok = parseCsr(csr);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->spiffeId, "spiffe://cluster.local/ns/a/sa/b");
}

}  // namespace
}  // namespace weft::tls
