// The discovery server's certificate from the mesh issuer.
#include <algorithm>

#include "operator/src/identity/keeper.h"

namespace weft::op::identity {
namespace {

bool dnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::size_t end = dot == std::string::npos ? s.size() : dot;
    std::size_t len = end - start;
    if (len == 0 || len > 63 || s[start] == '-' || s[end - 1] == '-') {
      return false;
    }
    for (std::size_t i = start; i < end; ++i) {
      char c = s[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    if (dot == std::string::npos) {
      // An all-digit last label is an IP address, which a DNS name never matches.
      return s.find_first_not_of("0123456789", start) != std::string::npos;
    }
    start = dot + 1;
  }
  return true;
}

}  // namespace

Result<std::vector<std::string>> discoveryNames(const std::string& ns,
                                                const std::vector<std::string>& extra) {
  std::string svc = std::string(kControlService) + "." + ns + ".svc";
  std::vector<std::string> names{svc, svc + ".cluster.local"};
  for (const auto& name : extra) {
    if (!dnsName(name)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "'" + name + "' is not a lower-case DNS name (RFC 1123, no wildcard)");
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  return names;
}

Result<std::optional<KeyPair>> syncDiscoveryCert(const Issuer& issuer,
                                                 const std::vector<std::string>& dnsNames,
                                                 const std::string& currentPem, SystemTime now,
                                                 std::chrono::seconds lifetime) {
  if (auto current = tls::parseCert(currentPem); current && !dueForRenewal(*current, now) &&
                                                 tls::signedBy(*current, issuer.cert) &&
                                                 now < tls::notAfter(*current)) {
    return std::optional<KeyPair>();
  }
  if (now >= tls::notAfter(issuer.cert)) {
    return makeError(ErrorCode::kUnavailable,
                     "discovery serving certificate: the mesh issuer has expired, nothing to "
                     "sign it with");
  }
  auto issued = issueServing(dnsNames, issuer.cert, issuer.key, now, lifetime);
  if (!issued) {
    return issued.error().context("discovery serving certificate");
  }
  // The issuer's certificates go along (proxies hold only the roots),
  // re-encoded so that nothing else in tls.crt ever reaches a client.
  auto chain = tls::parseCerts(issuer.certPem);
  if (!chain) {
    return chain.error().context("the issuer's certificate");
  }
  for (const auto& cert : *chain) {
    auto pem = tls::certPem(cert);
    if (!pem) {
      return pem.error();
    }
    issued->certPem += *pem;
  }
  return std::optional<KeyPair>(std::move(*issued));
}

}  // namespace weft::op::identity
