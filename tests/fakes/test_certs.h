// Certificates for tests, made with OpenSSL at test time: a CA, a server
// certificate for 127.0.0.1/localhost and a client certificate, all P-256.
#pragma once

#include <string>

#include "common/result.h"

namespace weft::testing {

struct TestPki {
  std::string caCertPem;
  std::string caKeyPem;
  std::string serverCertPem;  // SANs: IP 127.0.0.1, DNS localhost
  std::string serverKeyPem;
  std::string clientCertPem;  // CN = the given client name
  std::string clientKeyPem;
};

Result<TestPki> makeTestPki(const std::string& clientName = "weft-test-client");

}  // namespace weft::testing
