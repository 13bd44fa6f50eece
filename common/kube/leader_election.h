// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
// a lease held by someone else is respected until leaseDuration has passed
// since we last saw it change (our own clock, so clock skew between replicas
// does not matter); the leader renews every retryPeriod and gives up when it
// could not renew for renewDeadline.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "common/kube/kube_api.h"

namespace weft::kube {

struct LeaderElectionOptions {
  std::string ns;
  std::string name;      // the Lease
  std::string identity;  // this replica (pod name)
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
};

class LeaderElector {
 public:
  using Clock = std::chrono::steady_clock;

  // The callbacks run on run()'s thread; they must not block for long.
  LeaderElector(KubeApi& api, LeaderElectionOptions options, std::function<void()> onStartedLeading,
                std::function<void()> onStoppedLeading);

  // One round: acquire or renew. True when we hold the lease afterwards.
  Result<bool> tryAcquireOrRenew(Clock::time_point now = Clock::now());
  // Campaigns and renews until `stop`; then releases a held lease.
  void run(StopSignal& stop);
  bool isLeader() const { return leader_.load(); }

 private:
  Result<void> release();

  KubeApi& api_;
  LeaderElectionOptions options_;
  std::function<void()> onStarted_;
  std::function<void()> onStopped_;
  std::atomic<bool> leader_{false};
  std::mutex mu_;
  std::string observedRecord_;  // holder + renewTime + RV of the last lease seen
  Clock::time_point observedAt_{};
};

}  // namespace weft::kube
