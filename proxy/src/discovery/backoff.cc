// Exponential backoff with jitter.
#include "proxy/src/discovery/backoff.h"

#include <algorithm>

namespace weft::proxy::discovery {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed)
    : base_(std::max(base, std::chrono::milliseconds(1))), max_(std::max(max, base_)), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  // Doubling stops at max, so the shift never overflows however long the outage.
  std::int64_t ceiling = base_.count();
  for (int i = 0; i < failures_ && ceiling < max_.count(); ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, max_.count());
  ++failures_;
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  return std::chrono::milliseconds(jitter(rng_));
}

}  // namespace weft::proxy::discovery
