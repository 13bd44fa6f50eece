// makeTestPki with OpenSSL 3 EVP/X509 calls.
#include "tests/fakes/test_certs.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace weft::testing {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using CertPtr = std::unique_ptr<X509, Deleter>;

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string keyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, Deleter> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bioString(bio.get());
}

std::string certPem(X509* cert) {
  std::unique_ptr<BIO, Deleter> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bioString(bio.get());
}

bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) {
    return false;
  }
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

CertPtr makeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuerKey,
                 long serial, bool isCa, const char* san, const char* eku) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  bool ok =
      addExt(cert.get(), iss, NID_basic_constraints, isCa ? "critical,CA:TRUE" : "CA:FALSE") &&
      addExt(cert.get(), iss, NID_key_usage,
             isCa ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
      addExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (ok && san) {
    ok = addExt(cert.get(), iss, NID_subject_alt_name, san);
  }
  if (ok && eku) {
    ok = addExt(cert.get(), iss, NID_ext_key_usage, eku);
  }
  if (!ok || X509_sign(cert.get(), issuerKey ? issuerKey : key, EVP_sha256()) == 0) {
    return nullptr;
  }
  return cert;
}

}  // namespace

Result<TestPki> makeTestPki(const std::string& clientName) {
  KeyPtr caKey(EVP_EC_gen("P-256"));
  KeyPtr serverKey(EVP_EC_gen("P-256"));
  KeyPtr clientKey(EVP_EC_gen("P-256"));
  if (!caKey || !serverKey || !clientKey) {
    return makeError(ErrorCode::kInternal, "EC key generation failed");
  }
  auto ca = makeCert(caKey.get(), "weft-test-ca", nullptr, nullptr, 1, true, nullptr, nullptr);
  if (!ca) {
    return makeError(ErrorCode::kInternal, "CA certificate failed");
  }
  auto server = makeCert(serverKey.get(), "127.0.0.1", ca.get(), caKey.get(), 2, false,
                         "IP:127.0.0.1,DNS:localhost", "serverAuth");
  auto client =
      makeCert(clientKey.get(), clientName, ca.get(), caKey.get(), 3, false, nullptr, "clientAuth");
  if (!server || !client) {
    return makeError(ErrorCode::kInternal, "leaf certificate failed");
  }
  TestPki pki;
  pki.caCertPem = certPem(ca.get());
  pki.caKeyPem = keyPem(caKey.get());
  pki.serverCertPem = certPem(server.get());
  pki.serverKeyPem = keyPem(serverKey.get());
  pki.clientCertPem = certPem(client.get());
  pki.clientKeyPem = keyPem(clientKey.get());
  return pki;
}

}  // namespace weft::testing
