#include "cli/src/proxy_config.h"

#include <chrono>
#include <ostream>

#include "cli/src/kube_context.h"
#include "cli/src/scrape.h"
#include "common/api/duration.h"
#include "common/json/json.h"

namespace weft::cli {
namespace {

constexpr int kAdminPort = 15100;

Result<std::string> viaApiServer(const std::string& ns, const std::string& pod,
                                 const std::string& kubeconfig, std::chrono::milliseconds timeout) {
  auto context = resolveKubeContext(kubeconfig);
  if (!context) {
    return context.error();
  }
  auto api =
      kube::HttpKubeApi::create(context->config, kubeApiOptions(timeout, "weftctl-proxy-config"));
  if (!api) {
    return api.error();
  }
  return (*api)->getRaw("/api/v1/namespaces/" + ns + "/pods/" + pod + ":" +
                        std::to_string(kAdminPort) + "/proxy/config");
}

}  // namespace

int runProxyConfig(const ProxyConfigFlags& flags, std::ostream& out, std::ostream& err) {
  auto timeout = api::parseDuration(flags.timeout);
  if (!timeout || *timeout <= std::chrono::milliseconds::zero()) {
    err << "weftctl proxy-config: --timeout: expected a duration such as 2s\n";
    return 2;
  }
  Result<std::string> body = makeError(ErrorCode::kInvalidArgument, "");
  auto slash = flags.target.find('/');
  if (slash != std::string::npos) {
    std::string ns = flags.target.substr(0, slash);
    std::string pod = flags.target.substr(slash + 1);
    if (ns.empty() || pod.empty() || pod.find('/') != std::string::npos) {
      err << "weftctl proxy-config: expected NAMESPACE/POD or HOST:PORT, got \"" << flags.target
          << "\"\n";
      return 2;
    }
    body = viaApiServer(ns, pod, flags.kubeconfig, *timeout);
  } else {
    auto address = api::parseAuthority(flags.target);
    if (!address) {
      err << "weftctl proxy-config: expected NAMESPACE/POD or HOST:PORT (the admin port, "
          << kAdminPort << "), got \"" << flags.target << "\"\n";
      return 2;
    }
    body = std::move(scrapeAll({*address}, "/config", *timeout).front());
  }
  if (!body) {
    err << "weftctl proxy-config: " << flags.target << ": " << body.error().message << "\n";
    return 1;
  }
  auto doc = json::parse(*body);
  if (!doc) {
    err << "weftctl proxy-config: " << flags.target
        << ": /config is not JSON: " << doc.error().message << "\n";
    return 1;
  }
  out << json::dump(*doc, 2) << "\n";
  return 0;
}

}  // namespace weft::cli
