// One HTTPS request to a server, reporting the certificate chain it presents
// without judging it: `weftctl check` verifies the chain itself so that it
// can say exactly what is wrong (and still read an untrusted certificate's
// expiry).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/tls/pki.h"

namespace weft::cli {

struct HttpsProbe {
  std::vector<tls::Cert> chain;  // as presented, leaf first
  int status = 0;                // HTTP status of GET `path`
  std::string body;              // at most 64 KiB
};

struct ProbeTarget {
  std::string host;  // an IP address or a name to resolve
  std::uint16_t port = 0;
  std::string serverName;  // SNI
  std::string path = "/";
};

// Blocking: resolves and connects within `connectTimeout`, then does the
// TLS handshake (TLS 1.2+, no verification), the request and the response
// within `timeout`. Errors name the step that failed; their code says how far
// it got: kUnavailable or kTimeout when nothing answered (no connection),
// kIo when the connection was made and the TLS or HTTP exchange then failed.
Result<HttpsProbe> probeHttps(const ProbeTarget& target, std::chrono::milliseconds connectTimeout,
                              std::chrono::milliseconds timeout);

// "10.0.0.1:443", "[fd00::1]:443", "localhost:9443" -> host and port.
Result<ProbeTarget> parseHostPort(const std::string& address);

}  // namespace weft::cli
