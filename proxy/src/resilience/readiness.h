// ReadinessTracker: remembers since when a destination has had no ready endpoint, for fail-fast.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "common/clock.h"

namespace weft::proxy::resilience {

// DESIGN.md: "fail fast with 503 when a destination has had no ready endpoint
// for 3 s". Until then a request may wait for endpoints to appear (a rollout,
// a first discovery answer); after, it is refused at once (weft-error
// no_endpoints). One per destination and worker; not thread-safe.
class ReadinessTracker {
 public:
  static constexpr Clock::Duration kDefaultFailFastAfter = std::chrono::seconds(3);

  // Starts with no ready endpoint, as of now.
  explicit ReadinessTracker(const Clock& clock,
                            Clock::Duration failFastAfter = kDefaultFailFastAfter);

  // Call whenever the endpoint set changes, with the number that can take requests.
  void update(std::size_t readyCount);

  bool hasReady() const { return !noneSince_.has_value(); }
  // No ready endpoint for at least failFastAfter.
  bool failFast() const;
  // How long a request arriving now may wait for an endpoint: zero when there
  // is one ready (no need) or when failing fast (no point).
  Clock::Duration waitBudget() const;
  std::optional<Clock::TimePoint> noneReadySince() const { return noneSince_; }

 private:
  const Clock* clock_;
  Clock::Duration failFastAfter_;
  std::optional<Clock::TimePoint> noneSince_;
};

}  // namespace weft::proxy::resilience
