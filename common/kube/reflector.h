// Reflector: keeps a local view of one resource in step with the API server,
// the client-go / kube-rs watcher way: list (all pages), then watch from the
// list's resourceVersion; resume a broken watch from the last RV seen
// (events and bookmarks move it); on 410 Expired relist and replace the view
// whole; other failures retry with exponential backoff and jitter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/kube/kube_api.h"

namespace weft::kube {

struct ReflectorOptions {
  Resource resource;
  std::string ns;  // empty: all namespaces
  std::string labelSelector;
  std::int64_t pageSize = 500;
  int watchTimeoutSeconds = 290;  // the server ends each watch; we resume from the last RV
  std::chrono::milliseconds initialBackoff{200};
  std::chrono::milliseconds maxBackoff{30000};
  double jitter = 0.5;  // each wait is backoff * [1, 1 + jitter)
};

// Called on the reflector's thread, in order.
struct ReflectorHandler {
  // The complete current set (first list or relist), at `resourceVersion`.
  std::function<void(std::vector<Json>&& items, const std::string& resourceVersion)> replace;
  // ADDED / MODIFIED / DELETED (bookmarks only move the resume point).
  std::function<void(WatchEvent&& event)> event;
  // A failure about to be retried (403 from RBAC, the server gone, ...).
  std::function<void(const Error& error)> error;
};

class Reflector {
 public:
  Reflector(KubeApi& api, ReflectorOptions options, ReflectorHandler handler);

  // Blocks until `stop` fires.
  void run(StopSignal& stop);

  std::uint64_t lists() const { return lists_.load(); }
  std::uint64_t watchRestarts() const { return watchRestarts_.load(); }
  std::string lastResourceVersion() const;

 private:
  std::chrono::nanoseconds nextBackoff(int failures);

  KubeApi& api_;
  ReflectorOptions options_;
  ReflectorHandler handler_;
  std::atomic<std::uint64_t> lists_{0};
  std::atomic<std::uint64_t> watchRestarts_{0};
  mutable std::mutex mu_;
  std::string lastRv_;
};

}  // namespace weft::kube
