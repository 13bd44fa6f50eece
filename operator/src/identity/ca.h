// The mesh CA's certificates as pure functions of PEM and time: a root and
// an issuer made from nothing, an issuer re-issued under the same root, the
// loaded issuer the certifier signs with, and the trust bundle to publish.
// Also the webhook CA and serving certificate the injector needs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/tls/pki.h"

namespace weft::op::identity {

using tls::SystemTime;

inline constexpr std::chrono::hours kRootLifetime{24 * 3650};
inline constexpr std::chrono::hours kIssuerLifetime{24 * 365};
inline constexpr std::chrono::hours kServingLifetime{24 * 90};
// The discovery server's certificate: in memory only, so renewing it is cheap.
inline constexpr std::chrono::hours kDiscoveryLifetime{24};

// The Secret `weft-identity-issuer` (or --issuer-dir's files), as PEM text.
struct CaFiles {
  std::string certPem;     // tls.crt: the issuer
  std::string keyPem;      // tls.key: the issuer's key
  std::string caPem;       // ca.crt: the root(s)
  std::string rootKeyPem;  // root.key: only when the operator made the root
  friend bool operator==(const CaFiles&, const CaFiles&) = default;
};

// What the certifier signs with: parsed once, shared, immutable.
struct Issuer {
  tls::Cert cert;
  tls::PKey key;
  std::string certPem;
  std::vector<std::string> trustBundle;  // PEM of every root still valid
};
using IssuerPtr = std::shared_ptr<const Issuer>;

// A self-signed root and an issuer signed by it, with the root's key kept.
Result<CaFiles> createCa(SystemTime now);
// A new issuer key and certificate under the same root (needs rootKeyPem,
// and refuses when the current issuer was signed by another root).
Result<CaFiles> renewIssuer(const CaFiles& files, SystemTime now);
// Whether the operator renews the issuer: root.key is there and its root
// signed tls.crt. A user-provided issuer (no root.key, or one signed by a
// root whose key the operator lacks, as after a trust-anchor rotation) is
// renewed by its owner.
bool ownsIssuer(const CaFiles& files);
// Checks that the key fits the issuer, the issuer is a CA and chains to a
// root of ca.crt at `now`; keeps only the roots still valid in the bundle.
Result<IssuerPtr> loadIssuer(const CaFiles& files, SystemTime now);
// Past 2/3 of its life: time to re-issue, leaving a third for retries.
bool dueForRenewal(const tls::Cert& cert, SystemTime now);
// When that point comes.
SystemTime renewalTime(const tls::Cert& cert);
// The roots of a PEM bundle that are valid at `now`, as PEM, in order.
Result<std::vector<std::string>> validRoots(const std::string& bundlePem, SystemTime now);

// A serving certificate for `dnsNames`, signed by `ca`; key and cert PEM.
struct KeyPair {
  std::string certPem;
  std::string keyPem;
};
Result<KeyPair> createSelfSignedCa(const std::string& commonName, SystemTime now);
Result<KeyPair> issueServing(const std::vector<std::string>& dnsNames, const KeyPair& ca,
                             SystemTime now);
// The same with a parsed signer and a lifetime (never past the signer's);
// back-dated by at most a quarter of the lifetime, so that a short-lived
// certificate is not due for renewal the moment it is made.
Result<KeyPair> issueServing(const std::vector<std::string>& dnsNames, const tls::Cert& signer,
                             const tls::PKey& signerKey, SystemTime now,
                             std::chrono::seconds lifetime);

}  // namespace weft::op::identity
