// The mesh CA's certificate lifecycle on common/tls.
#include "operator/src/identity/ca.h"

namespace weft::op::identity {
namespace {

// Back-dated a little, so that a peer whose clock is slightly behind accepts it.
constexpr std::chrono::minutes kBackdate{5};

// `cert` and its `key` as PEM; `what` names it in the error.
Result<KeyPair> pemPair(const Result<tls::Cert>& cert, const tls::PKey& key,
                        std::string_view what) {
  if (!cert) {
    return cert.error();
  }
  auto certPem = tls::certPem(*cert);
  auto keyPem = tls::privateKeyPem(key);
  if (!certPem || !keyPem) {
    return makeError(ErrorCode::kInternal, "cannot encode the " + std::string(what) + " as PEM");
  }
  return KeyPair{*certPem, *keyPem};
}

Result<KeyPair> selfSigned(const std::string& cn, std::chrono::hours lifetime, SystemTime now,
                           std::optional<int> pathLength) {
  auto key = tls::generateKey();
  if (!key) {
    return key.error();
  }
  tls::CertSpec spec;
  spec.commonName = cn;
  spec.isCa = true;
  spec.pathLength = pathLength;
  spec.notBefore = now - kBackdate;
  spec.notAfter = now + lifetime;
  return pemPair(tls::selfSign(spec, *key), *key, "CA");
}

Result<KeyPair> issueIssuer(const tls::Cert& root, const tls::PKey& rootKey, SystemTime now) {
  auto key = tls::generateKey();
  if (!key) {
    return key.error();
  }
  tls::CertSpec spec;
  spec.commonName = "weft-identity-issuer";
  spec.isCa = true;
  spec.pathLength = 0;
  spec.notBefore = now - kBackdate;
  // Never past the root: a chain is only as good as its shortest link.
  spec.notAfter = std::min(now + kIssuerLifetime, tls::notAfter(root));
  return pemPair(tls::sign(spec, *key, root, rootKey), *key, "issuer");
}

}  // namespace

Result<CaFiles> createCa(SystemTime now) {
  auto root = selfSigned("weft-root-ca", kRootLifetime, now, 1);
  if (!root) {
    return root.error();
  }
  CaFiles files;
  files.caPem = root->certPem;
  files.rootKeyPem = root->keyPem;
  return renewIssuer(files, now);
}

Result<CaFiles> renewIssuer(const CaFiles& files, SystemTime now) {
  if (files.rootKeyPem.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "no root.key: a user-provided issuer is renewed by its owner");
  }
  auto rootKey = tls::parsePrivateKey(files.rootKeyPem);
  if (!rootKey) {
    return rootKey.error().context("root.key");
  }
  auto roots = tls::parseCerts(files.caPem);
  if (!roots) {
    return roots.error().context("ca.crt");
  }
  auto current = files.certPem.empty() ? Result<tls::Cert>(makeError(ErrorCode::kNotFound, ""))
                                       : tls::parseCert(files.certPem);
  for (const auto& root : *roots) {
    if (tls::keyMatches(root, *rootKey)) {
      // After a trust-anchor rotation root.key may still be the old root's:
      // renewing under it would undo the rotation.
      if (current && !tls::signedBy(*current, root)) {
        return makeError(ErrorCode::kInvalidArgument,
                         "the issuer is not signed by the root of root.key: renewing it is its "
                         "owner's job");
      }
      auto issuer = issueIssuer(root, *rootKey, now);
      if (!issuer) {
        return issuer.error();
      }
      CaFiles next = files;
      next.certPem = issuer->certPem;
      next.keyPem = issuer->keyPem;
      return next;
    }
  }
  return makeError(ErrorCode::kInvalidArgument, "root.key fits no certificate of ca.crt");
}

bool ownsIssuer(const CaFiles& files) {
  if (files.rootKeyPem.empty()) {
    return false;
  }
  auto rootKey = tls::parsePrivateKey(files.rootKeyPem);
  auto roots = tls::parseCerts(files.caPem);
  auto issuer = tls::parseCert(files.certPem);
  if (!rootKey || !roots || !issuer) {
    return false;
  }
  for (const auto& root : *roots) {
    if (tls::keyMatches(root, *rootKey) && tls::signedBy(*issuer, root)) {
      return true;
    }
  }
  return false;
}

Result<std::vector<std::string>> validRoots(const std::string& bundlePem, SystemTime now) {
  auto roots = tls::parseCerts(bundlePem);
  if (!roots) {
    return roots.error();
  }
  std::vector<std::string> out;
  for (const auto& root : *roots) {
    if (tls::notBefore(root) <= now && now < tls::notAfter(root)) {
      auto pem = tls::certPem(root);
      if (!pem) {
        return pem.error();
      }
      out.push_back(std::move(*pem));
    }
  }
  if (out.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "no certificate in the bundle is valid now");
  }
  return out;
}

Result<IssuerPtr> loadIssuer(const CaFiles& files, SystemTime now) {
  auto cert = tls::parseCert(files.certPem);
  if (!cert) {
    return cert.error().context("tls.crt");
  }
  auto key = tls::parsePrivateKey(files.keyPem);
  if (!key) {
    return key.error().context("tls.key");
  }
  if (!tls::keyMatches(*cert, *key)) {
    return makeError(ErrorCode::kInvalidArgument, "tls.key is not the key of tls.crt");
  }
  auto roots = tls::parseCerts(files.caPem);
  if (!roots) {
    return roots.error().context("ca.crt");
  }
  auto bundle = validRoots(files.caPem, now);
  if (!bundle) {
    return bundle.error().context("ca.crt");
  }
  // A self-signed issuer is its own root; otherwise it must chain to ca.crt.
  if (auto ok = tls::verifyChain(*cert, {}, *roots, now); !ok) {
    return ok.error().context("tls.crt does not chain to ca.crt");
  }
  auto issuer = std::make_shared<Issuer>();
  issuer->cert = std::move(*cert);
  issuer->key = std::move(*key);
  issuer->certPem = files.certPem;
  issuer->trustBundle = std::move(*bundle);
  return IssuerPtr(std::move(issuer));
}

bool dueForRenewal(const tls::Cert& cert, SystemTime now) { return now >= renewalTime(cert); }

SystemTime renewalTime(const tls::Cert& cert) {
  auto from = tls::notBefore(cert);
  auto to = tls::notAfter(cert);
  return from + (to - from) * 2 / 3;
}

Result<KeyPair> createSelfSignedCa(const std::string& commonName, SystemTime now) {
  return selfSigned(commonName, kRootLifetime, now, 0);
}

Result<KeyPair> issueServing(const std::vector<std::string>& dnsNames, const KeyPair& ca,
                             SystemTime now) {
  auto caCert = tls::parseCert(ca.certPem);
  auto caKey = tls::parsePrivateKey(ca.keyPem);
  if (!caCert || !caKey) {
    return makeError(ErrorCode::kInvalidArgument, "the webhook CA does not parse");
  }
  return issueServing(dnsNames, *caCert, *caKey, now, kServingLifetime);
}

Result<KeyPair> issueServing(const std::vector<std::string>& dnsNames, const tls::Cert& signer,
                             const tls::PKey& signerKey, SystemTime now,
                             std::chrono::seconds lifetime) {
  auto key = tls::generateKey();
  if (!key) {
    return key.error();
  }
  tls::CertSpec spec;
  spec.commonName = dnsNames.empty() ? "weft" : dnsNames.front();
  spec.dnsNames = dnsNames;
  spec.notBefore = now - std::min<std::chrono::seconds>(kBackdate, lifetime / 4);
  spec.notAfter = std::min(now + lifetime, tls::notAfter(signer));
  return pemPair(tls::sign(spec, *key, signer, signerKey), *key, "serving certificate");
}

}  // namespace weft::op::identity
