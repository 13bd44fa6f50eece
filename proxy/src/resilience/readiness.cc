// ReadinessTracker: a timestamp set when the last ready endpoint goes and cleared when one comes.
#include "proxy/src/resilience/readiness.h"

#include <algorithm>

namespace weft::proxy::resilience {

ReadinessTracker::ReadinessTracker(const Clock& clock, Clock::Duration failFastAfter)
    : clock_(&clock),
      failFastAfter_(std::max(failFastAfter, Clock::Duration::zero())),
      noneSince_(clock.now()) {}

void ReadinessTracker::update(std::size_t readyCount) {
  if (readyCount > 0) {
    noneSince_.reset();
  } else if (!noneSince_) {
    noneSince_ = clock_->now();
  }
}

bool ReadinessTracker::failFast() const {
  return noneSince_ && clock_->now() - *noneSince_ >= failFastAfter_;
}

Clock::Duration ReadinessTracker::waitBudget() const {
  if (!noneSince_) {
    return Clock::Duration::zero();
  }
  const auto waited = clock_->now() - *noneSince_;
  return waited >= failFastAfter_ ? Clock::Duration::zero() : failFastAfter_ - waited;
}

}  // namespace weft::proxy::resilience
