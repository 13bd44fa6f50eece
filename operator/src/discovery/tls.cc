// Self-signed serving certificates with OpenSSL 3.
#include "operator/src/discovery/tls.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/file.h"

namespace weft::op::discovery {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error sslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) {
    ERR_error_string_n(code, buf, sizeof buf);
  }
  ERR_clear_error();
  return makeError(ErrorCode::kInternal, what + ": " + buf);
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Result<CertificatePair> makeSelfSigned(const std::vector<std::string>& dnsNames,
                                       const std::vector<std::string>& ipAddresses,
                                       std::chrono::hours validity) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return sslError("generating an ECDSA key");
  }
  X509Ptr cert(X509_new());
  if (!cert) {
    return sslError("allocating a certificate");
  }
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) {
    return sslError("random serial");
  }
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(std::chrono::seconds(validity).count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn = dnsNames.empty() ? "weft-operator" : dnsNames.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : dnsNames) {
    san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  }
  for (const auto& ip : ipAddresses) {
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  struct Ext {
    int nid;
    std::string value;
  };
  std::vector<Ext> exts = {{NID_basic_constraints, "critical,CA:FALSE"},
                           {NID_key_usage, "critical,digitalSignature"},
                           {NID_ext_key_usage, "serverAuth"}};
  if (!san.empty()) {
    exts.push_back({NID_subject_alt_name, san});
  }
  for (const auto& e : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, e.nid, e.value.c_str());
    if (!ext) {
      return sslError("certificate extension " + e.value);
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return sslError("signing the certificate");
  }
  BioPtr certBio(BIO_new(BIO_s_mem()));
  BioPtr keyBio(BIO_new(BIO_s_mem()));
  if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return sslError("writing PEM");
  }
  return CertificatePair{bioString(certBio.get()), bioString(keyBio.get())};
}

Result<CertificatePair> loadCertificate(const std::string& certFile, const std::string& keyFile) {
  auto cert = readFile(certFile, 1u << 20);
  if (!cert) {
    return cert.error();
  }
  auto key = readFile(keyFile, 1u << 20);
  if (!key) {
    return key.error();
  }
  BioPtr certBio(BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size())));
  BioPtr keyBio(BIO_new_mem_buf(key->data(), static_cast<int>(key->size())));
  X509Ptr x(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  if (!x) {
    return sslError(certFile + ": not a PEM certificate").context("--tls-cert");
  }
  KeyPtr k(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  if (!k) {
    return sslError(keyFile + ": not a PEM private key").context("--tls-key");
  }
  if (X509_check_private_key(x.get(), k.get()) != 1) {
    ERR_clear_error();
    return makeError(ErrorCode::kInvalidArgument,
                     "--tls-key: " + keyFile + " does not belong to " + certFile);
  }
  return CertificatePair{std::move(*cert), std::move(*key)};
}

}  // namespace weft::op::discovery
