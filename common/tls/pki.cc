// OpenSSL 3 calls for keys, CSRs, signing and verification.
#include "common/tls/pki.h"

#include <array>
#include <ctime>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace weft::tls {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
struct ExtsFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using Bio = std::unique_ptr<BIO, BioFree>;

// The oldest queued OpenSSL error as text, and the queue cleared, so one
// failure never leaks into the next call's message.
Error sslError(std::string what) {
  unsigned long code = ERR_get_error();
  if (code != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    what += ": ";
    what += buf.data();
  }
  ERR_clear_error();
  return makeError(ErrorCode::kInvalidArgument, std::move(what));
}

Bio readBio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

SystemTime fromAsn1(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return SystemTime{};
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    return false;
  }
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::string sanValue(const CertSpec& spec) {
  std::string san;
  if (spec.spiffeId) {
    san = "URI:" + *spec.spiffeId;
  }
  for (const auto& dns : spec.dnsNames) {
    san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  }
  return san;
}

// Fills and signs `cert` (subject key already set).
Result<Cert> finish(Cert cert, const CertSpec& spec, X509* issuer, EVP_PKEY* issuerKey) {
  X509* x = cert.get();
  X509_set_version(x, 2);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr) {
    return sslError("serial number");
  }
  X509_NAME* name = X509_get_subject_name(x);
  if (!spec.commonName.empty() &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.commonName.c_str()),
                                 -1, -1, 0) != 1) {
    return sslError("subject name");
  }
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  if (ASN1_TIME_set(X509_getm_notBefore(x), std::chrono::system_clock::to_time_t(spec.notBefore)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), std::chrono::system_clock::to_time_t(spec.notAfter)) ==
          nullptr) {
    return sslError("validity");
  }
  X509* signer = issuer != nullptr ? issuer : x;
  std::string constraints = spec.isCa ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.isCa && spec.pathLength) {
    constraints += ",pathlen:" + std::to_string(*spec.pathLength);
  }
  bool ok = addExtension(x, signer, NID_basic_constraints, constraints) &&
            addExtension(x, signer, NID_key_usage,
                         spec.isCa ? "critical,keyCertSign,cRLSign"
                                   : "critical,digitalSignature,keyEncipherment") &&
            addExtension(x, signer, NID_subject_key_identifier, "hash") &&
            addExtension(x, signer, NID_authority_key_identifier, "keyid:always");
  if (ok && !spec.isCa) {
    ok = addExtension(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  std::string san = sanValue(spec);
  if (ok && !san.empty()) {
    // SPIFFE: an SVID with an empty subject must mark its SAN critical.
    ok = addExtension(x, signer, NID_subject_alt_name,
                      (spec.commonName.empty() ? "critical," : "") + san);
  }
  if (!ok) {
    return sslError("certificate extensions");
  }
  if (X509_sign(x, issuerKey, EVP_sha256()) == 0) {
    return sslError("signing");
  }
  return cert;
}

}  // namespace

void PKeyFree::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }
void X509Free::operator()(x509_st* c) const { X509_free(c); }

Result<PKey> generateKey() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) {
    return sslError("generating a P-256 key");
  }
  return key;
}

Result<std::string> privateKeyPem(const PKey& key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return sslError("writing a private key");
  }
  return drain(bio.get());
}

Result<std::string> publicKeyPem(const PKey& key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    return sslError("writing a public key");
  }
  return drain(bio.get());
}

Result<PKey> parsePrivateKey(std::string_view pem) {
  Bio bio = readBio(pem);
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return sslError("not a PEM private key");
  }
  return key;
}

Result<Cert> parseCert(std::string_view pem) {
  Bio bio = readBio(pem);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return sslError("not a PEM certificate");
  }
  return cert;
}

Result<std::vector<Cert>> parseCerts(std::string_view pem) {
  Bio bio = readBio(pem);
  std::vector<Cert> out;
  for (;;) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    out.push_back(std::move(cert));
  }
  unsigned long last = ERR_peek_last_error();
  bool cleanEnd = ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (out.empty() || (last != 0 && !cleanEnd)) {
    return sslError(out.empty() ? "no PEM certificate" : "a malformed certificate in the bundle");
  }
  ERR_clear_error();
  return out;
}

Result<std::string> certPem(const Cert& cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    return sslError("writing a certificate");
  }
  return drain(bio.get());
}

Result<std::string> certificatesOnly(std::string_view pem) {
  auto certs = parseCerts(pem);
  if (!certs) {
    return certs.error();
  }
  std::string out;
  for (const auto& cert : *certs) {
    auto one = certPem(cert);
    if (!one) {
      return one.error();
    }
    out += *one;
  }
  return out;
}

Result<std::string> makeCsr(const PKey& key, const std::string& spiffeId) {
  std::unique_ptr<X509_REQ, ReqFree> req(X509_REQ_new());
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtsFree> exts(sk_X509_EXTENSION_new_null());
  if (!req || !exts || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return sslError("building a CSR");
  }
  std::string san = "URI:" + spiffeId;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (ext == nullptr || sk_X509_EXTENSION_push(exts.get(), ext) == 0) {
    X509_EXTENSION_free(ext);
    return sslError("CSR subjectAltName " + spiffeId);
  }
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0) {
    return sslError("signing a CSR");
  }
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return sslError("writing a CSR");
  }
  return drain(bio.get());
}

Result<CsrRequest> parseCsr(std::string_view pem) {
  Bio bio = readBio(pem);
  std::unique_ptr<X509_REQ, ReqFree> req(
      PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    return sslError("malformed CSR");
  }
  PKey key(X509_REQ_get_pubkey(req.get()));
  if (!key || X509_REQ_verify(req.get(), key.get()) != 1) {
    return sslError("CSR signature does not verify");
  }
  std::array<char, 64> group{};
  std::size_t len = 0;
  if (!EVP_PKEY_is_a(key.get(), "EC") ||
      EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &len) != 1 ||
      std::string_view(group.data(), len) != "prime256v1") {
    ERR_clear_error();
    return makeError(ErrorCode::kInvalidArgument, "CSR key must be ECDSA P-256");
  }
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtsFree> exts(X509_REQ_get_extensions(req.get()));
  std::unique_ptr<GENERAL_NAMES, NamesFree> names;
  if (exts) {
    names.reset(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
  }
  if (!names || sk_GENERAL_NAME_num(names.get()) != 1) {
    ERR_clear_error();
    return makeError(ErrorCode::kInvalidArgument, "CSR must carry exactly one SAN, a SPIFFE ID");
  }
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), 0);
  if (gn->type != GEN_URI) {
    return makeError(ErrorCode::kInvalidArgument, "CSR SAN must be a URI (spiffe://...)");
  }
  const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
  std::string id(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                 static_cast<std::size_t>(ASN1_STRING_length(uri)));
  if (id.rfind("spiffe://", 0) != 0) {
    return makeError(ErrorCode::kInvalidArgument, "CSR SAN is not a SPIFFE ID: " + id);
  }
  return CsrRequest{std::move(id), std::move(key)};
}

Result<Cert> selfSign(const CertSpec& spec, const PKey& key) {
  Cert cert(X509_new());
  if (!cert || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return sslError("building a certificate");
  }
  return finish(std::move(cert), spec, nullptr, key.get());
}

Result<Cert> sign(const CertSpec& spec, const PKey& subjectKey, const Cert& issuer,
                  const PKey& issuerKey) {
  Cert cert(X509_new());
  if (!cert || X509_set_pubkey(cert.get(), subjectKey.get()) != 1) {
    return sslError("building a certificate");
  }
  return finish(std::move(cert), spec, issuer.get(), issuerKey.get());
}

std::optional<std::string> spiffeId(const Cert& cert) {
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return std::nullopt;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_URI) {
      continue;
    }
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    std::string id(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                   static_cast<std::size_t>(ASN1_STRING_length(uri)));
    if (id.rfind("spiffe://", 0) == 0) {
      return id;
    }
  }
  return std::nullopt;
}

SystemTime notBefore(const Cert& cert) { return fromAsn1(X509_get0_notBefore(cert.get())); }
SystemTime notAfter(const Cert& cert) { return fromAsn1(X509_get0_notAfter(cert.get())); }

std::string fingerprint(const Cert& cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  X509_digest(cert.get(), EVP_sha256(), md.data(), &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

bool keyMatches(const Cert& cert, const PKey& key) {
  bool ok = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

bool signedBy(const Cert& cert, const Cert& issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  bool ok = key != nullptr && X509_verify(cert.get(), key) == 1;
  ERR_clear_error();
  return ok;
}

Result<void> verifyChain(const Cert& leaf, std::span<const Cert> intermediates,
                         std::span<const Cert> roots, SystemTime at) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), StackFree> chain(sk_X509_new_null());
  if (!store || !ctx || !chain) {
    return sslError("verification setup");
  }
  for (const auto& root : roots) {
    X509_STORE_add_cert(store.get(), root.get());
  }
  for (const auto& c : intermediates) {
    sk_X509_push(chain.get(), c.get());
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain.get()) != 1) {
    return sslError("verification setup");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                             std::chrono::system_clock::to_time_t(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    std::string why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return makeError(ErrorCode::kPermissionDenied, "certificate chain: " + why);
  }
  return {};
}

std::string workloadId(std::string_view trustDomain, std::string_view ns,
                       std::string_view serviceAccount) {
  std::string id = "spiffe://";
  id.append(trustDomain).append("/ns/").append(ns).append("/sa/").append(serviceAccount);
  return id;
}

}  // namespace weft::tls
