// StopSignal: condition variable plus stop callbacks.
#include "common/kube/stop_signal.h"

#include <vector>

namespace weft::kube {

void StopSignal::stop() {
  std::map<int, std::function<void()>> toRun;
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    toRun = subscribers_;
  }
  cv_.notify_all();
  for (auto& [id, fn] : toRun) {
    fn();
  }
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSignal::waitFor(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopped_; });
  return stopped_;
}

int StopSignal::subscribe(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (stopped_) {
    lock.unlock();
    fn();
    return 0;
  }
  int id = nextId_++;
  subscribers_.emplace(id, std::move(fn));
  return id;
}

void StopSignal::unsubscribe(int id) {
  // stop() copies the callbacks before running them, so a callback may still
  // run after this returns; callers keep what it touches alive (shared_ptr).
  std::lock_guard lock(mu_);
  subscribers_.erase(id);
}

}  // namespace weft::kube
