// Who a service-account token belongs to: a TokenReview with audience
// weft.io/identity (kube mode), or the tokens file of the source folder
// (dir mode). Both are blocking and thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::op::identity {

inline constexpr const char* kAudience = "weft.io/identity";
inline constexpr const char* kTokensFile = "identity-tokens.yaml";

struct ServiceAccount {
  std::string ns;
  std::string name;
};

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  // kUnauthenticated (saying why) for a token that is not valid for the
  // audience or is not a service account's; kUnavailable when the check
  // itself failed (API server unreachable).
  virtual Result<ServiceAccount> review(const std::string& token) = 0;
};

// POST authentication.k8s.io/v1 TokenReview through `api` (must outlive it).
std::unique_ptr<TokenReviewer> makeKubeTokenReviewer(kube::KubeApi& api);
// `path` (YAML): `tokens: {TOKEN: NAMESPACE/SERVICEACCOUNT, ...}`, read on
// every call so that edits apply at once.
std::unique_ptr<TokenReviewer> makeFileTokenReviewer(std::string path);

// "system:serviceaccount:NS:SA" -> {NS, SA}.
Result<ServiceAccount> parseServiceAccountUser(const std::string& username);

}  // namespace weft::op::identity
