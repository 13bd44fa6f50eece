// NamespaceLabels from the API server: a reflector keeps every namespace's
// labels in memory (no API call on the admission path); a namespace not seen
// yet (created a moment ago, or before the first list) is read directly.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "common/kube/kube_api.h"
#include "common/kube/stop_signal.h"
#include "webhook/src/admission/review.h"

namespace weft::webhook::admission {

class KubeNamespaceLabels : public NamespaceLabels {
 public:
  // Starts watching namespaces on its own thread; `api` must outlive this.
  explicit KubeNamespaceLabels(kube::KubeApi& api);
  ~KubeNamespaceLabels() override;
  KubeNamespaceLabels(const KubeNamespaceLabels&) = delete;
  KubeNamespaceLabels& operator=(const KubeNamespaceLabels&) = delete;

  // NamespaceLabels
  Result<std::map<std::string, std::string>> labels(const std::string& namespaceName) override;

  bool synced() const;

 private:
  void store(const kube::Json& ns);

  kube::KubeApi& api_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::map<std::string, std::string>> byName_;
  bool synced_ = false;
  kube::StopSignal stop_;
  std::thread thread_;
};

}  // namespace weft::webhook::admission
