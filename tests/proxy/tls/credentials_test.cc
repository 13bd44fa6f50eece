// Credentials from real certificates, and the ClientHello scan against
// hellos made by OpenSSL itself.
#include "proxy/src/tls/credentials.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "tests/fakes/fake_control_plane.h"

namespace weft::proxy::tls {
namespace {

// The bytes an OpenSSL client sends first, offering `alpn` (none if empty).
std::string clientHello(const std::string& alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (!alpn.empty()) {
    setAlpn(ssl, alpn);
  }
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

TEST(ClientHelloTest, WeftAlpnIsOursOtherTlsIsTheApps) {
  EXPECT_EQ(scanClientHello(clientHello("weft/http1")), HelloScan::kWeft);
  EXPECT_EQ(scanClientHello(clientHello("weft/tcp")), HelloScan::kWeft);
  EXPECT_EQ(scanClientHello(clientHello("h2")), HelloScan::kForeignTls);
  EXPECT_EQ(scanClientHello(clientHello("")), HelloScan::kForeignTls);
}

TEST(ClientHelloTest, PartialHellosAskForMoreAndPlaintextIsNotTls) {
  auto hello = clientHello("weft/http1");
  EXPECT_EQ(scanClientHello(""), HelloScan::kNeedMore);
  EXPECT_EQ(scanClientHello(hello.substr(0, 3)), HelloScan::kNeedMore);
  EXPECT_EQ(scanClientHello(hello.substr(0, hello.size() - 1)), HelloScan::kNeedMore);
  EXPECT_EQ(scanClientHello("GET / HTTP/1.1\r\n"), HelloScan::kNotTls);
  EXPECT_EQ(scanClientHello(std::string("\x16\x01", 2) + "xyz"), HelloScan::kNotTls);
  // A record that is not a ClientHello, or lies about its lengths.
  std::string broken = hello;
  broken[5] = 0x02;
  EXPECT_EQ(scanClientHello(broken), HelloScan::kForeignTls);
  std::string lying = hello;
  lying[5 + 4 + 2 + 32] = static_cast<char>(0xff);  // session id longer than the record
  EXPECT_EQ(scanClientHello(lying), HelloScan::kForeignTls);
}

TEST(CredentialsTest, BuiltFromAChainWithTheirIdentityAndBundle) {
  auto ca = testing::MeshCa::create("unit");
  ASSERT_TRUE(ca) << ca.error().message;
  auto key = weft::tls::generateKey();
  ASSERT_TRUE(key);
  auto now = std::chrono::system_clock::now();
  weft::tls::CertSpec spec{"",
                           "spiffe://cluster.local/ns/a/sa/b",
                           {},
                           false,
                           std::nullopt,
                           now - std::chrono::minutes(1),
                           now + std::chrono::hours(1)};
  auto leaf = weft::tls::sign(spec, *key, ca->issuer, ca->issuerKey);
  ASSERT_TRUE(leaf);
  auto issuer = weft::tls::parseCert(ca->issuerPem);
  auto root = weft::tls::parseCert(ca->rootPem);
  ASSERT_TRUE(issuer && root);
  std::vector<weft::tls::Cert> chain;
  chain.push_back(std::move(*leaf));
  chain.push_back(std::move(*issuer));
  std::vector<weft::tls::Cert> roots;
  roots.push_back(std::move(*root));

  auto c = Credentials::create(*key, chain, roots);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ((*c)->identity(), "spiffe://cluster.local/ns/a/sa/b");
  ASSERT_EQ((*c)->bundleFingerprints().size(), 1u);
  EXPECT_EQ((*c)->bundleFingerprints()[0], weft::tls::fingerprint(roots[0]));

  auto other = testing::MeshCa::create("other");
  ASSERT_TRUE(other);
  auto otherRoot = weft::tls::parseCert(other->rootPem);
  ASSERT_TRUE(otherRoot);
  roots.push_back(std::move(*otherRoot));
  auto rotated = (*c)->withBundle(roots);
  ASSERT_TRUE(rotated) << rotated.error().message;
  EXPECT_EQ((*rotated)->bundleFingerprints().size(), 2u);
  EXPECT_EQ((*rotated)->identity(), (*c)->identity());

  auto wrongKey = weft::tls::generateKey();
  ASSERT_TRUE(wrongKey);
  EXPECT_FALSE(Credentials::create(*wrongKey, chain, roots));
  EXPECT_FALSE(Credentials::create(*key, chain, {}));
}

}  // namespace
}  // namespace weft::proxy::tls
