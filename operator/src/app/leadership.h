// Leadership: runs common/kube's LeaderElector on a thread of its own, so that
// of several operator replicas one writes status and Events. Every replica
// keeps reconciling and serving discovery from its own cache.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "common/kube/leader_election.h"
#include "common/kube/stop_signal.h"

namespace weft::op::app {

class Leadership {
 public:
  // `onChange(true|false)` runs on the election thread when leadership is
  // gained or lost; it must not block. `api` must outlive this object.
  Leadership(kube::KubeApi& api, kube::LeaderElectionOptions options,
             std::function<void(bool)> onChange);
  ~Leadership();

  void start();
  // Stops campaigning and releases a held lease, so a successor need not
  // wait for it to expire. Returns once the thread ended.
  void stop();
  // Any thread; turns false the moment a renewal fails past the deadline.
  bool isLeader() const { return elector_.isLeader(); }

 private:
  kube::LeaderElector elector_;
  kube::StopSignal stop_;
  std::thread thread_;
};

}  // namespace weft::op::app
