// TokenReview through the Kubernetes API, or the local tokens file.
#include "operator/src/identity/token_review.h"

#include "common/file.h"
#include "common/json/json.h"
#include "common/kube/kube_api.h"
#include "common/yaml/yaml.h"

namespace weft::op::identity {
namespace {

bool dnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

class KubeTokenReviewer final : public TokenReviewer {
 public:
  explicit KubeTokenReviewer(kube::KubeApi& api) : api_(api) {}

  Result<ServiceAccount> review(const std::string& token) override {
    json::Json body = {{"apiVersion", "authentication.k8s.io/v1"},
                       {"kind", "TokenReview"},
                       {"spec", {{"token", token}, {"audiences", {kAudience}}}}};
    auto answer = api_.create(kube::resources::tokenReviews(), "", body);
    if (!answer) {
      return makeError(ErrorCode::kUnavailable, "TokenReview: " + answer.error().message);
    }
    const json::Json& status = (*answer)["status"];
    if (!status.is_object() || !status.value("authenticated", false)) {
      std::string why = status.is_object() ? status.value("error", "") : "";
      return makeError(ErrorCode::kUnauthenticated,
                       "token not valid for audience weft.io/identity" +
                           (why.empty() ? std::string() : ": " + why));
    }
    // An authenticator that ignores audiences answers without them: refuse.
    bool audienceOk = false;
    if (status.contains("audiences") && status["audiences"].is_array()) {
      for (const auto& a : status["audiences"]) {
        audienceOk = audienceOk || a == kAudience;
      }
    }
    if (!audienceOk) {
      return makeError(ErrorCode::kUnauthenticated,
                       "token not valid for audience weft.io/identity");
    }
    auto user = json::getStringOr(status, "/user/username", "");
    if (!user) {
      return makeError(ErrorCode::kUnauthenticated, "TokenReview: no user name");
    }
    return parseServiceAccountUser(*user);
  }

 private:
  kube::KubeApi& api_;
};

class FileTokenReviewer final : public TokenReviewer {
 public:
  explicit FileTokenReviewer(std::string path) : path_(std::move(path)) {}

  Result<ServiceAccount> review(const std::string& token) override {
    auto text = readFile(path_, 1 << 20);
    if (!text) {
      return makeError(ErrorCode::kUnauthenticated,
                       "no tokens file " + path_ + ": " + text.error().message);
    }
    auto doc = yaml::parseOne(*text);
    if (!doc || !doc->is_object() || !doc->contains("tokens") || !(*doc)["tokens"].is_object()) {
      return makeError(ErrorCode::kUnavailable,
                       path_ + ": expected `tokens: {TOKEN: NAMESPACE/SERVICEACCOUNT}`");
    }
    const json::Json& tokens = (*doc)["tokens"];
    auto it = tokens.find(token);
    if (it == tokens.end() || !it->is_string()) {
      return makeError(ErrorCode::kUnauthenticated, "unknown token");
    }
    std::string value = it->get<std::string>();
    auto slash = value.find('/');
    ServiceAccount sa{value.substr(0, slash),
                      slash == std::string::npos ? "" : value.substr(slash + 1)};
    if (!dnsLabel(sa.ns) || !dnsLabel(sa.name)) {
      return makeError(ErrorCode::kUnavailable,
                       path_ + ": expected NAMESPACE/SERVICEACCOUNT, got \"" + value + "\"");
    }
    return sa;
  }

 private:
  std::string path_;
};

}  // namespace

Result<ServiceAccount> parseServiceAccountUser(const std::string& username) {
  static constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (username.rfind(kPrefix, 0) != 0) {
    return makeError(ErrorCode::kUnauthenticated, "\"" + username + "\" is not a service account");
  }
  std::string rest = username.substr(kPrefix.size());
  auto colon = rest.find(':');
  ServiceAccount sa{rest.substr(0, colon),
                    colon == std::string::npos ? "" : rest.substr(colon + 1)};
  if (!dnsLabel(sa.ns) || !dnsLabel(sa.name)) {
    return makeError(ErrorCode::kUnauthenticated, "\"" + username + "\" is not a service account");
  }
  return sa;
}

std::unique_ptr<TokenReviewer> makeKubeTokenReviewer(kube::KubeApi& api) {
  return std::make_unique<KubeTokenReviewer>(api);
}

std::unique_ptr<TokenReviewer> makeFileTokenReviewer(std::string path) {
  return std::make_unique<FileTokenReviewer>(std::move(path));
}

}  // namespace weft::op::identity
