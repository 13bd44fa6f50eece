// WorkQueue: a deque + dirty/processing sets (client-go's workqueue) and one
// timer thread for delayed adds and the resync.
#include "operator/src/queue/work_queue.h"

#include <algorithm>

namespace weft::op::queue {

ItemBackoff::ItemBackoff(std::chrono::nanoseconds base, std::chrono::nanoseconds max)
    : base_(base), max_(max) {}

std::chrono::nanoseconds ItemBackoff::next(const std::string& key) {
  int n = failures_[key]++;
  // Doubling past the cap overflows nothing: stop doubling at the cap.
  auto delay = base_;
  for (int i = 0; i < n && delay < max_; ++i) {
    delay *= 2;
  }
  return std::min(delay, max_);
}

void ItemBackoff::forget(const std::string& key) { failures_.erase(key); }

int ItemBackoff::failures(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(WorkQueueOptions options)
    : options_(std::move(options)),
      backoff_(options_.baseDelay, options_.maxDelay),
      bucket_(options_.qps, options_.burst),
      nextResync_(Clock::now() + options_.resyncPeriod) {
  timer_ = std::thread([this] { timerLoop(); });
}

WorkQueue::~WorkQueue() {
  shutDown();
  timer_.join();
}

void WorkQueue::addLocked(const std::string& key) {
  if (shutDown_ || dirty_.count(key)) {
    return;
  }
  dirty_.insert(key);
  if (processing_.count(key)) {
    return;  // done() puts it back
  }
  queue_.push_back(key);
  ready_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  if (shutDown_) {
    return;
  }
  if (delay <= std::chrono::nanoseconds(0)) {
    addLocked(key);
    return;
  }
  auto due = Clock::now() + delay;
  auto [it, inserted] = waiting_.emplace(key, due);
  if (!inserted && due < it->second) {
    it->second = due;  // the earlier wins
  }
  timerCv_.notify_one();
}

void WorkQueue::addRateLimited(const std::string& key) {
  std::chrono::nanoseconds delay;
  {
    std::lock_guard lock(mu_);
    delay = std::max(backoff_.next(key), bucket_.reserve(Clock::now()));
  }
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  backoff_.forget(key);
}

int WorkQueue::numRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  return backoff_.failures(key);
}

std::optional<std::string> WorkQueue::get() { return getFor(std::chrono::hours(24 * 365)); }

std::optional<std::string> WorkQueue::getFor(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mu_);
  if (!ready_.wait_for(lock, timeout, [&] { return shutDown_ || !queue_.empty(); })) {
    return std::nullopt;
  }
  if (queue_.empty()) {
    return std::nullopt;  // shut down
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    ready_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutDown_ = true;
  ready_.notify_all();
  timerCv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutDown_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkQueue::timerLoop() {
  std::unique_lock lock(mu_);
  while (!shutDown_) {
    auto now = Clock::now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second <= now) {
        addLocked(it->first);
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
    bool resync = options_.resyncPeriod.count() > 0 && options_.resyncKeys;
    if (resync && now >= nextResync_) {
      nextResync_ = now + options_.resyncPeriod;
      auto keysFn = options_.resyncKeys;
      lock.unlock();  // the cache takes its own lock
      auto keys = keysFn();
      lock.lock();
      for (const auto& key : keys) {
        addLocked(key);
      }
      continue;
    }
    auto wake = now + std::chrono::hours(1);
    for (const auto& [key, due] : waiting_) {
      wake = std::min(wake, due);
    }
    if (resync) {
      wake = std::min(wake, nextResync_);
    }
    timerCv_.wait_until(lock, wake);
  }
}

}  // namespace weft::op::queue
