// kubeconfig resolution for weftctl's cluster commands.
#include "cli/src/kube_context.h"

#include <cstdlib>
#include <filesystem>

namespace weft::cli {
namespace {

Result<KubeContext> fromFile(const std::string& path) {
  auto config = kube::loadKubeconfig(path);
  if (!config) {
    return config.error();
  }
  return KubeContext{std::move(*config), "kubeconfig " + path};
}

}  // namespace

Result<KubeContext> resolveKubeContext(const std::string& flag) {
  if (!flag.empty()) {
    return fromFile(flag);
  }
  std::error_code ec;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string list = env;
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t colon = list.find(':', start);
      std::string path = list.substr(start, colon == std::string::npos ? colon : colon - start);
      if (!path.empty() && std::filesystem::exists(path, ec)) {
        return fromFile(path);
      }
      if (colon == std::string::npos) {
        break;
      }
      start = colon + 1;
    }
    return makeError(ErrorCode::kNotFound,
                     "$KUBECONFIG is set to \"" + list + "\" but none of its files exists");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string path = std::string(home) + "/.kube/config";
    if (std::filesystem::exists(path, ec)) {
      return fromFile(path);
    }
  }
  auto inCluster = kube::loadInCluster();
  if (!inCluster) {
    return makeError(inCluster.error().code,
                     "no cluster configuration: no --kubeconfig, $KUBECONFIG or ~/.kube/config, "
                     "and " +
                         inCluster.error().message);
  }
  return KubeContext{std::move(*inCluster), "in-cluster service account"};
}

kube::HttpKubeApiOptions kubeApiOptions(std::chrono::milliseconds timeout, std::string userAgent) {
  kube::HttpKubeApiOptions options;
  options.requestTimeout = std::chrono::ceil<std::chrono::seconds>(timeout);
  options.userAgent = std::move(userAgent);
  return options;
}

}  // namespace weft::cli
