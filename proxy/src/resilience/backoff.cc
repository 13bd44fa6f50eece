// Backoff arithmetic: exponential ceiling, uniform jitter below it.
#include "proxy/src/resilience/backoff.h"

#include <algorithm>

namespace weft::proxy::resilience {

Result<void> validate(const BackoffSettings& settings) {
  if (settings.base <= Clock::Duration::zero()) {
    return makeError(ErrorCode::kInvalidArgument, "backoff.base must be positive");
  }
  if (settings.max < settings.base) {
    return makeError(ErrorCode::kInvalidArgument, "backoff.max must be at least backoff.base");
  }
  return okResult();
}

Clock::Duration backoffCeiling(const BackoffSettings& settings, std::uint32_t retry) {
  const auto base = std::max(settings.base, Clock::Duration::zero());
  const auto max = std::max(settings.max, base);
  if (retry == 0 || base == Clock::Duration::zero()) {
    return Clock::Duration::zero();
  }
  auto ceiling = base;
  // Doubling stops at max, so this never overflows and runs at most ~63 times.
  for (std::uint32_t i = 1; i < retry && ceiling < max; ++i) {
    ceiling = ceiling > max / 2 ? max : ceiling * 2;
  }
  return std::min(ceiling, max);
}

Clock::Duration Backoff::next() {
  ++retries_;
  const auto ceiling = backoffCeiling(settings_, retries_);
  const auto ticks = static_cast<std::uint64_t>(ceiling.count());
  // Inclusive of the ceiling itself.
  return Clock::Duration(static_cast<Clock::Duration::rep>(random_->uniform(ticks + 1)));
}

}  // namespace weft::proxy::resilience
