// Workers: N threads taking keys from a WorkQueue and reconciling them, only
// once the caches have synced. The outcome decides what happens to the key:
// done (forget its backoff), error (back off and retry), or come back later.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/kube/stop_signal.h"
#include "operator/src/queue/work_queue.h"

namespace weft::op::queue {

struct Outcome {
  enum class Type { kDone, kError, kRequeueAfter };
  Type type = Type::kDone;
  std::chrono::nanoseconds after{0};

  static Outcome done() { return {}; }
  static Outcome error() { return {Type::kError, {}}; }
  static Outcome requeueAfter(std::chrono::nanoseconds d) { return {Type::kRequeueAfter, d}; }
};

class Workers {
 public:
  using Reconcile = std::function<Outcome(const std::string& key)>;

  // `reconcile` runs on the worker threads, one key on one thread at a time.
  Workers(WorkQueue& queue, int count, Reconcile reconcile);
  ~Workers();

  // Starts the threads; they wait until `hasSynced` is true before taking
  // the first key (polled; the first list is what we wait for).
  void start(std::function<bool()> hasSynced);
  // Shuts the queue down and joins the threads (in-flight reconciles finish).
  void stop();

 private:
  void loop(const std::function<bool()>& hasSynced);

  WorkQueue& queue_;
  int count_;
  Reconcile reconcile_;
  kube::StopSignal stop_;
  std::vector<std::thread> threads_;
};

}  // namespace weft::op::queue
