// WorkQueue: controller-runtime's rate-limited work queue. Keys are
// deduplicated, a key is never handed to two workers at once (re-added while
// processing, it comes back after done()), failures back off per key
// exponentially (5 ms doubling up to 1000 s) under an overall token bucket,
// keys can be re-added after a delay, and every key is resynced periodically.
//
// Thread-safe. get() blocks; everything else returns at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/kube/rate_limiter.h"

namespace weft::op::queue {

// Per-key exponential backoff: base * 2^(failures-1), at most max.
class ItemBackoff {
 public:
  ItemBackoff(std::chrono::nanoseconds base, std::chrono::nanoseconds max);
  // Counts one more failure of `key` and returns how long to wait.
  std::chrono::nanoseconds next(const std::string& key);
  void forget(const std::string& key);
  int failures(const std::string& key) const;

 private:
  std::chrono::nanoseconds base_;
  std::chrono::nanoseconds max_;
  std::map<std::string, int> failures_;
};

struct WorkQueueOptions {
  std::chrono::nanoseconds baseDelay = std::chrono::milliseconds(5);
  std::chrono::nanoseconds maxDelay = std::chrono::seconds(1000);
  double qps = 10;  // overall bucket for rate-limited re-adds (client-go's default)
  int burst = 100;
  std::chrono::nanoseconds resyncPeriod{0};  // 0: no resync
  // Every key there is (the cache's), for the resync.
  std::function<std::vector<std::string>()> resyncKeys;
};

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(WorkQueueOptions options = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  // addAfter with the key's next backoff (and the overall bucket's wait).
  void addRateLimited(const std::string& key);
  // The key succeeded: its backoff starts over.
  void forget(const std::string& key);
  int numRequeues(const std::string& key) const;

  // The next key, which is then being processed until done(key); nullopt
  // once shut down (or after `timeout`, when given).
  std::optional<std::string> get();
  std::optional<std::string> getFor(std::chrono::nanoseconds timeout);
  void done(const std::string& key);

  // Wakes every get(); adds are ignored from now on.
  void shutDown();
  bool shuttingDown() const;
  // Keys ready to be handed out (not the delayed ones).
  std::size_t len() const;

 private:
  void addLocked(const std::string& key);
  void timerLoop();

  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable timerCv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;
  std::set<std::string> processing_;
  std::map<std::string, Clock::time_point> waiting_;  // key -> when it is due
  ItemBackoff backoff_;
  kube::TokenBucket bucket_;
  Clock::time_point nextResync_;
  bool shutDown_ = false;
  std::thread timer_;
};

}  // namespace weft::op::queue
