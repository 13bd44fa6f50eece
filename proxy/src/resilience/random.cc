// SeededRandom (xoshiro256**) and the bounded helpers shared by every Random.
#include "proxy/src/resilience/random.h"

namespace weft::proxy::resilience {

std::uint64_t Random::uniform(std::uint64_t bound) {
  if (bound == 0) {
    return 0;
  }
  // Reject the low remainder so every residue is equally likely; the expected
  // number of draws is below 2 even in the worst case.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) {
      return r % bound;
    }
  }
}

double Random::unit() {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

bool Random::chance(double percent) {
  if (!(percent > 0.0)) {  // also false for NaN
    return false;
  }
  if (percent >= 100.0) {
    return true;
  }
  return unit() * 100.0 < percent;
}

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (auto& word : s_) {
    word = splitmix64(seed);
  }
}

std::uint64_t SeededRandom::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

}  // namespace weft::proxy::resilience
