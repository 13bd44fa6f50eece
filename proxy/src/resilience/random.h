// Random: an injectable source of randomness (load balancing, jitter, weighted and fault choices).
#pragma once

#include <cstdint>

namespace weft::proxy::resilience {

// Uniform 64-bit values. Not thread-safe: each worker owns its own instance,
// which also keeps the request path free of shared state.
class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next() = 0;

  // Uniform in [0, bound), unbiased; 0 when bound is 0.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [0, 1).
  double unit();
  // True with probability percent/100 (values outside [0, 100] clamp).
  bool chance(double percent);
};

// xoshiro256** seeded through splitmix64: fast, good statistics, and the same
// sequence for the same seed, so tests are deterministic.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed);

  // Random
  std::uint64_t next() override;

 private:
  std::uint64_t s_[4];
};

}  // namespace weft::proxy::resilience
