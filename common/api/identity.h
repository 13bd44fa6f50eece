// The identity documents of `POST /v1/identity/certify` (request {csr, token}, response
// {certificateChain, trustBundle}); JSON conversion in common/api/json.h.
#pragma once

#include <string>
#include <vector>

namespace weft::api {

struct CertifyRequest {
  std::string csr;    // PEM "CERTIFICATE REQUEST"
  std::string token;  // the pod's projected service-account token (audience weft.io/identity)
  friend bool operator==(const CertifyRequest&, const CertifyRequest&) = default;
};

struct CertifyResponse {
  std::vector<std::string> certificateChain;  // PEM certificates, leaf first
  std::vector<std::string> trustBundle;       // PEM roots currently trusted
  friend bool operator==(const CertifyResponse&, const CertifyResponse&) = default;
};

}  // namespace weft::api
