// KubeSource: the Source for a real cluster. One Reflector per watched kind
// (list all pages, then watch from the list's resourceVersion; resume from
// the last RV; on 410 relist and replace the kind whole; back off with
// jitter on errors). synced() once every kind has been listed.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/kube/kube_api.h"
#include "common/kube/reflector.h"
#include "operator/src/source/source.h"

namespace weft::op::source {

struct KubeSourceOptions {
  std::vector<Kind> kinds{std::begin(kAllKinds), std::end(kAllKinds)};
  std::string ns;  // empty: every namespace (cluster-scoped kinds ignore it)
  std::int64_t pageSize = 500;
  int watchTimeoutSeconds = 290;
  std::chrono::milliseconds initialBackoff{200};
  std::chrono::milliseconds maxBackoff{30000};
};

// The API resource of a watched kind.
kube::Resource resourceOf(Kind kind);

class KubeSource final : public Source {
 public:
  // `api` is shared with the rest of the operator (status writes, Events).
  KubeSource(std::shared_ptr<kube::KubeApi> api, KubeSourceOptions options = {});
  ~KubeSource() override;

  // Source
  Result<void> start(Sink& sink) override;
  void stop() override;

  // For /metrics and /readyz.
  std::uint64_t relists() const;
  std::uint64_t watchRestarts() const;
  std::uint64_t errors() const { return errors_.load(); }
  // The last error per kind ("" when the last attempt worked), for logs/tests.
  std::string lastError(Kind kind) const;

 private:
  struct Watcher;

  std::shared_ptr<kube::KubeApi> api_;
  KubeSourceOptions options_;
  kube::StopSignal stop_;
  std::vector<std::unique_ptr<Watcher>> watchers_;
  std::atomic<std::size_t> listedKinds_{0};
  std::atomic<std::uint64_t> errors_{0};
  mutable std::mutex mu_;
  std::map<Kind, std::string> lastError_;
  bool started_ = false;
};

}  // namespace weft::op::source
