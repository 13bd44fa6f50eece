// TrustBundle from the API server: the key ca-bundle.crt of the ConfigMap
// weft-trust-bundle, which the operator keeps in Weft's namespace.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/kube/stop_signal.h"
#include "webhook/src/admission/review.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::webhook::admission {

inline constexpr const char* kTrustBundleConfigMap = "weft-trust-bundle";
inline constexpr const char* kTrustBundleKey = "ca-bundle.crt";

// Reads the ConfigMap at once and then every `refresh` on a thread of its
// own (a GET: RBAC `get` on that one ConfigMap), so that admission never
// waits on the API server. A ConfigMap that is missing, unreadable or holds
// no certificate keeps the last good bundle; only certificates are kept
// (re-encoded), never anything else the value may hold.
class KubeTrustBundle : public TrustBundle {
 public:
  // `api` must outlive this object.
  KubeTrustBundle(kube::KubeApi& api, std::string ns, std::chrono::milliseconds refresh);
  ~KubeTrustBundle() override;
  KubeTrustBundle(const KubeTrustBundle&) = delete;
  KubeTrustBundle& operator=(const KubeTrustBundle&) = delete;

  // TrustBundle
  std::optional<std::string> current() const override;
  std::string source() const override;

 private:
  void run();
  void refreshOnce();

  kube::KubeApi& api_;
  const std::string ns_;
  const std::chrono::milliseconds refresh_;
  mutable std::mutex mu_;
  std::optional<std::string> pem_;
  std::string lastProblem_;  // logged once, until it changes
  kube::StopSignal stop_;
  std::thread thread_;
};

}  // namespace weft::webhook::admission
