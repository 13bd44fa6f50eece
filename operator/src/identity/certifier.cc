// Certify: CSR checks, TokenReview, per-account token buckets, signing.
#include "operator/src/identity/certifier.h"

#include <cmath>

#include "common/api/json.h"

namespace weft::op::identity {
namespace {

CertifyAnswer refuse(int status, std::string result, const std::string& why) {
  return CertifyAnswer{status, json::dump(json::Json{{"error", why}}), 0, std::move(result)};
}

// Buckets of accounts idle this long are full again: forget them.
constexpr std::chrono::minutes kBucketIdle{10};

}  // namespace

Certifier::Certifier(TokenReviewer& reviewer, RateLimit limit)
    : reviewer_(reviewer), limit_(limit) {}

void Certifier::setIssuer(IssuerPtr issuer) {
  std::lock_guard lock(mu_);
  issuer_ = std::move(issuer);
}

IssuerPtr Certifier::issuer() const {
  std::lock_guard lock(mu_);
  return issuer_;
}

int Certifier::take(const std::string& account, Steady::time_point now) {
  std::lock_guard lock(mu_);
  if (buckets_.size() > 10000) {
    std::erase_if(buckets_, [now](const auto& kv) { return now - kv.second.last > kBucketIdle; });
  }
  auto [it, fresh] = buckets_.try_emplace(account, Bucket{limit_.burst, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(limit_.burst, b.tokens + std::max(0.0, elapsed) * limit_.perSecond);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / limit_.perSecond)));
}

CertifyAnswer Certifier::certify(std::string_view authorization, std::string_view body,
                                 const CertifyPolicy& policy, SystemTime now,
                                 Steady::time_point steadyNow) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return refuse(401, "unauthenticated", "no bearer token");
  }
  std::string token(authorization.substr(kBearer.size()));
  auto doc = json::parse(body);
  if (!doc) {
    return refuse(400, "bad_request", "body: " + doc.error().message);
  }
  auto request = api::certifyRequestFromJson(*doc);
  if (!request) {
    return refuse(400, "bad_request", request.error().message);
  }
  auto csr = tls::parseCsr(request->csr);
  if (!csr) {
    return refuse(400, "bad_request", "csr: " + csr.error().message);
  }
  IssuerPtr issuer = this->issuer();
  if (!issuer) {
    return refuse(503, "unavailable", "the issuer is not loaded yet");
  }
  auto account = reviewer_.review(token);
  if (!account) {
    return account.error().code == ErrorCode::kUnauthenticated
               ? refuse(401, "unauthenticated", account.error().message)
               : refuse(503, "unavailable", account.error().message);
  }
  std::string id = tls::workloadId(policy.trustDomain, account->ns, account->name);
  if (int wait = take(account->ns + "/" + account->name, steadyNow); wait > 0) {
    CertifyAnswer a =
        refuse(429, "rate_limited",
               "service account " + account->ns + "/" + account->name + " asked too often");
    a.retryAfterSeconds = wait;
    return a;
  }
  if (csr->spiffeId != id) {
    return refuse(403, "forbidden",
                  "the CSR asks for " + csr->spiffeId + " but the token is " + id);
  }
  tls::CertSpec spec;
  spec.spiffeId = id;
  spec.notBefore = now - std::chrono::minutes(1);
  spec.notAfter = std::min(now + policy.lifetime, tls::notAfter(issuer->cert));
  auto cert = tls::sign(spec, csr->publicKey, issuer->cert, issuer->key);
  if (!cert) {
    return refuse(503, "unavailable", "signing failed: " + cert.error().message);
  }
  auto pem = tls::certPem(*cert);
  if (!pem) {
    return refuse(503, "unavailable", "signing failed: " + pem.error().message);
  }
  api::CertifyResponse out{id, {*pem, issuer->certPem}, issuer->trustBundle, spec.notAfter};
  return CertifyAnswer{200, json::dump(api::toJson(out)), 0, "issued"};
}

}  // namespace weft::op::identity
