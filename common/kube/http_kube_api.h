// HttpKubeApi: KubeApi over HTTPS to a real API server, on cpprestsdk (kept
// out of this header). Rate limited on the client side.
#pragma once

#include <chrono>
#include <memory>

#include "common/kube/config.h"
#include "common/kube/kube_api.h"

namespace weft::kube {

struct HttpKubeApiOptions {
  double qps = 50;  // token bucket; <= 0 disables
  int burst = 100;
  std::chrono::seconds requestTimeout{30};
  std::string userAgent = "weft";
};

class HttpKubeApi final : public KubeApi {
 public:
  // Fails on an unusable config (no server, bad PEM, unreadable files).
  static Result<std::unique_ptr<HttpKubeApi>> create(const KubeConfig& config,
                                                     const HttpKubeApiOptions& options = {});
  ~HttpKubeApi() override;

  // KubeApi
  Result<Json> get(const Resource& resource, std::string_view ns, std::string_view name) override;
  Result<ObjectList> list(const Resource& resource, std::string_view ns,
                          const ListOptions& options) override;
  Result<void> watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                     const std::function<void(WatchEvent&&)>& onEvent, StopSignal& stop) override;
  Result<Json> create(const Resource& resource, std::string_view ns, const Json& object) override;
  Result<Json> update(const Resource& resource, const Json& object,
                      std::string_view subresource = {}) override;
  Result<Json> patch(const Resource& resource, std::string_view ns, std::string_view name,
                     PatchType type, const Json& patch, std::string_view subresource = {}) override;
  Result<void> remove(const Resource& resource, std::string_view ns,
                      std::string_view name) override;

  // GET /version: {major, minor, gitVersion, ...} as the server reports it.
  // Not on KubeApi: only the client of a real server has a version to ask.
  Result<Json> serverVersion();
  // GET of a path whose answer is not a Kubernetes object (a service proxy,
  // /healthz): the body on 2xx, the typed error (kube_error.h) otherwise.
  Result<std::string> getRaw(const std::string& pathAndQuery);

 private:
  struct Impl;
  explicit HttpKubeApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::kube
