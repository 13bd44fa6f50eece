// Workers: the loop around WorkQueue::get and the outcome handling.
#include "operator/src/queue/workers.h"

#include "common/log/log.h"

namespace weft::op::queue {

Workers::Workers(WorkQueue& queue, int count, Reconcile reconcile)
    : queue_(queue), count_(std::max(1, count)), reconcile_(std::move(reconcile)) {}

Workers::~Workers() { stop(); }

void Workers::start(std::function<bool()> hasSynced) {
  for (int i = 0; i < count_; ++i) {
    threads_.emplace_back([this, hasSynced] { loop(hasSynced); });
  }
}

void Workers::stop() {
  stop_.stop();
  queue_.shutDown();
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

void Workers::loop(const std::function<bool()>& hasSynced) {
  while (hasSynced && !hasSynced()) {
    if (stop_.waitFor(std::chrono::milliseconds(10))) {
      return;
    }
  }
  for (;;) {
    auto key = queue_.get();
    if (!key) {
      return;
    }
    Outcome outcome;
    try {
      outcome = reconcile_(*key);
    } catch (const std::exception& e) {
      // Last resort: a throwing reconcile must not take the worker down.
      log::get("operator.queue")->error("reconcile {} threw: {}", *key, e.what());
      outcome = Outcome::error();
    }
    switch (outcome.type) {
      case Outcome::Type::kDone:
        queue_.forget(*key);
        break;
      case Outcome::Type::kError:
        queue_.addRateLimited(*key);
        break;
      case Outcome::Type::kRequeueAfter:
        queue_.forget(*key);
        queue_.addAfter(*key, outcome.after);
        break;
    }
    queue_.done(*key);
  }
}

}  // namespace weft::op::queue
