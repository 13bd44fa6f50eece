// Exponential backoff with jitter for reconnecting to the control plane.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace weft::proxy::discovery {

// delay(n) = uniform(0.5, 1.0) * min(max, base * 2^n): growing waits, spread so that proxies
// cut off together do not reconnect together. Not thread-safe (one per stream).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());

  // The wait before the next attempt; each call counts as one more failure.
  std::chrono::milliseconds next();
  // After a success: the next failure waits about `base` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace weft::proxy::discovery
