// PKI with OpenSSL 3 behind small owning types: ECDSA P-256 keys, CSRs that
// carry exactly one SPIFFE ID, certificate signing for the mesh CA, PEM in
// and out, and chain verification against a trust bundle. No OpenSSL header
// here: callers that need the raw pointers include <openssl/...> themselves.
// Every function is safe to call from any thread; objects are not shared.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct evp_pkey_st;
struct x509_st;

namespace weft::tls {

struct PKeyFree {
  void operator()(evp_pkey_st* k) const;
};
struct X509Free {
  void operator()(x509_st* c) const;
};
using PKey = std::unique_ptr<evp_pkey_st, PKeyFree>;
using Cert = std::unique_ptr<x509_st, X509Free>;
using SystemTime = std::chrono::system_clock::time_point;

// A fresh ECDSA P-256 key pair (DESIGN.md: made in memory, never on disk).
Result<PKey> generateKey();
// PKCS#8 PEM of the private key; PEM of the public key.
Result<std::string> privateKeyPem(const PKey& key);
Result<std::string> publicKeyPem(const PKey& key);
// A private key (PKCS#8 or traditional) from PEM.
Result<PKey> parsePrivateKey(std::string_view pem);

Result<Cert> parseCert(std::string_view pem);
// Every certificate in a PEM bundle or chain, in order; at least one.
Result<std::vector<Cert>> parseCerts(std::string_view pem);
Result<std::string> certPem(const Cert& cert);
// The certificates of `pem`, each re-encoded: what is published from a bundle
// or chain a user wrote is certificates only, never a key pasted among them.
Result<std::string> certificatesOnly(std::string_view pem);

// A CSR for `spiffeId` (the URI SAN), signed by `key`.
Result<std::string> makeCsr(const PKey& key, const std::string& spiffeId);

// What a CSR asks for, after its self-signature checked out.
struct CsrRequest {
  std::string spiffeId;  // the one and only SAN, a spiffe:// URI
  PKey publicKey;
};
// Refuses (kInvalidArgument, saying why) a CSR that does not parse, whose
// signature does not verify, whose key is not EC P-256, or whose SANs are not
// exactly one spiffe:// URI.
Result<CsrRequest> parseCsr(std::string_view pem);

// What a certificate says about its subject.
struct CertSpec {
  std::string commonName;
  std::optional<std::string> spiffeId;  // URI SAN
  std::vector<std::string> dnsNames;    // DNS SANs (serving certificates)
  bool isCa = false;
  std::optional<int> pathLength;  // CAs only
  SystemTime notBefore;
  SystemTime notAfter;
};

// A self-signed certificate (a root).
Result<Cert> selfSign(const CertSpec& spec, const PKey& key);
// A certificate for `subjectKey` (its public half is enough) signed by the
// issuer; the serial number is random, the issuer name taken from `issuer`.
Result<Cert> sign(const CertSpec& spec, const PKey& subjectKey, const Cert& issuer,
                  const PKey& issuerKey);

// The spiffe:// URI SAN, if the certificate has one.
std::optional<std::string> spiffeId(const Cert& cert);
SystemTime notBefore(const Cert& cert);
SystemTime notAfter(const Cert& cert);
// SHA-256 of the DER form, lower-case hex.
std::string fingerprint(const Cert& cert);
// Whether `key` is the private key of `cert`.
bool keyMatches(const Cert& cert, const PKey& key);

// Whether `issuer`'s key signed `cert`, whatever the time.
bool signedBy(const Cert& cert, const Cert& issuer);

// Verifies leaf -> intermediates -> one of `roots` at `at`. The error says
// what failed (expired, unknown issuer, ...).
Result<void> verifyChain(const Cert& leaf, std::span<const Cert> intermediates,
                         std::span<const Cert> roots, SystemTime at);

// The SPIFFE ID of a workload (DESIGN.md).
std::string workloadId(std::string_view trustDomain, std::string_view ns,
                       std::string_view serviceAccount);

}  // namespace weft::tls
