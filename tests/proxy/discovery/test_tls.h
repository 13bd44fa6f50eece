// Test-only TLS material: a self-signed ECDSA P-256 certificate generated with OpenSSL.
#pragma once

#include <string>

namespace weft::proxy::discovery::testing {

struct TestCert {
  std::string certPem;
  std::string keyPem;
};

// Valid for an hour, for `subjectAltName` (OpenSSL's syntax); usable as its own trust anchor.
TestCert makeSelfSignedCert(const std::string& commonName = "weft-test",
                            const std::string& subjectAltName = "DNS:localhost,IP:127.0.0.1");

}  // namespace weft::proxy::discovery::testing
