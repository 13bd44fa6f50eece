// The decision of POST /v1/identity/certify (docs/api.md "Certify"): parse
// the body and CSR, check the token, rate-limit per service account, check
// the identity, sign. Thread-safe; certify() blocks on the TokenReview, so
// call it off the discovery server's io thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "operator/src/identity/ca.h"
#include "operator/src/identity/token_review.h"

namespace weft::op::identity {

// The Mesh's say at the time of the request.
struct CertifyPolicy {
  std::string trustDomain = "cluster.local";
  std::chrono::seconds lifetime{24 * 3600};
};

struct CertifyAnswer {
  int status = 200;
  std::string body;  // JSON: the certificate, or {"error": "..."}
  int retryAfterSeconds = 0;
  // For weft_operator_certify_total{result}: issued, bad_request,
  // unauthenticated, forbidden, rate_limited, unavailable.
  std::string result;
};

struct RateLimit {
  double perSecond = 5;
  double burst = 20;
};

class Certifier {
 public:
  using Steady = std::chrono::steady_clock;

  Certifier(TokenReviewer& reviewer, RateLimit limit = {});

  // Any thread; null until the CA is loaded (answers 503 meanwhile).
  void setIssuer(IssuerPtr issuer);
  IssuerPtr issuer() const;

  // `authorization` is the header's value; `body` the request body.
  CertifyAnswer certify(std::string_view authorization, std::string_view body,
                        const CertifyPolicy& policy, SystemTime now,
                        Steady::time_point steadyNow = Steady::now());

 private:
  // Seconds until a token is back, or 0 when one was taken.
  int take(const std::string& account, Steady::time_point now);

  struct Bucket {
    double tokens;
    Steady::time_point last;
  };
  TokenReviewer& reviewer_;
  RateLimit limit_;
  mutable std::mutex mu_;
  IssuerPtr issuer_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace weft::op::identity
