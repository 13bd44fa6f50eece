// The discovery API's serving certificate: files given by flags, or a
// self-signed one made at start in local mode.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace weft::op::discovery {

struct CertificatePair {
  std::string certPem;  // leaf first, then any chain
  std::string keyPem;
};

// An ECDSA P-256 key and a self-signed certificate for `dnsNames` and
// `ipAddresses` (subjectAltName), valid from an hour ago for `validity`.
Result<CertificatePair> makeSelfSigned(const std::vector<std::string>& dnsNames,
                                       const std::vector<std::string>& ipAddresses,
                                       std::chrono::hours validity = std::chrono::hours(24 * 365));

// Reads and checks a certificate and key (PEM files that belong together).
Result<CertificatePair> loadCertificate(const std::string& certFile, const std::string& keyFile);

}  // namespace weft::op::discovery
