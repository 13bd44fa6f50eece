// Backoff: exponential delays with full jitter between retries.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/clock.h"
#include "common/result.h"
#include "proxy/src/resilience/random.h"

namespace weft::proxy::resilience {

// Maps policy.retries.backoff in docs/api.md: {base: 25ms, max: 250ms}.
struct BackoffSettings {
  Clock::Duration base = std::chrono::milliseconds(25);
  Clock::Duration max = std::chrono::milliseconds(250);
};

// base > 0 and max >= base.
Result<void> validate(const BackoffSettings& settings);

// The ceiling of retry n (1-based): min(max, base * 2^(n-1)); saturates instead
// of overflowing for large n.
Clock::Duration backoffCeiling(const BackoffSettings& settings, std::uint32_t retry);

// "Full jitter" (AWS architecture blog): each delay is uniform in
// [0, ceiling], which spreads synchronized clients best. One per request.
class Backoff {
 public:
  Backoff(BackoffSettings settings, Random& random) : settings_(settings), random_(&random) {}

  // The delay before the next retry; the first call is retry 1.
  Clock::Duration next();
  void reset() { retries_ = 0; }
  std::uint32_t retries() const { return retries_; }

 private:
  BackoffSettings settings_;
  Random* random_;
  std::uint32_t retries_ = 0;
};

}  // namespace weft::proxy::resilience
