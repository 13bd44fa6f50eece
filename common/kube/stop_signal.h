// A one-shot, thread-safe stop request that blocking work (watches, backoff
// waits) can poll, wait on, or be woken by.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

namespace weft::kube {

class StopSignal {
 public:
  // Idempotent; runs every subscribed function once, outside the lock.
  void stop();
  bool stopped() const;
  // Waits until stopped or `timeout` passed; returns stopped().
  bool waitFor(std::chrono::nanoseconds timeout);
  // Runs `fn` on stop (at once when already stopped). `fn` may still run
  // shortly after unsubscribe(), so it must only touch what it co-owns.
  int subscribe(std::function<void()> fn);
  void unsubscribe(int id);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  int nextId_ = 1;
  std::map<int, std::function<void()>> subscribers_;
};

}  // namespace weft::kube
