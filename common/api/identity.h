// The documents of `POST /v1/identity/certify` (docs/api.md "Certify"): the request
// {csr} (the token travels as `Authorization: Bearer`), the answer {identity,
// certificateChain, trustBundle, notAfter}; JSON conversion in common/api/json.h.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace weft::api {

struct CertifyRequest {
  std::string csr;  // PEM "CERTIFICATE REQUEST"
  friend bool operator==(const CertifyRequest&, const CertifyRequest&) = default;
};

struct CertifyResponse {
  std::string identity;                       // the SPIFFE ID certified
  std::vector<std::string> certificateChain;  // PEM certificates, leaf first
  std::vector<std::string> trustBundle;       // PEM roots currently trusted
  // The leaf's expiry, whole seconds (RFC 3339 in JSON).
  std::chrono::system_clock::time_point notAfter;
  friend bool operator==(const CertifyResponse&, const CertifyResponse&) = default;
};

}  // namespace weft::api
