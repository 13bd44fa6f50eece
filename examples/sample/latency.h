// Latency distribution of a load run: a log-linear histogram (under 1.6 %
// error) that merges cheaply and takes constant memory however long the run.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace weft::sample {

class LatencyHistogram {
 public:
  void record(std::chrono::microseconds latency);
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in milliseconds: the smallest recorded value
  // with at least q of all values at or below it, to the bucket's precision.
  // 0 when empty.
  double quantileMs(double q) const;
  double maxMs() const { return static_cast<double>(maxUs_) / 1000.0; }
  double meanMs() const;

 private:
  // Values below 128 us exactly; above, 64 buckets per power of two.
  static constexpr std::size_t kLinear = 128;
  static constexpr std::size_t kSub = 64;
  static constexpr std::size_t kBuckets = kLinear + 40 * kSub;
  static std::size_t bucketOf(std::uint64_t us);
  static std::uint64_t upperBoundOf(std::size_t bucket);

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sumUs_ = 0;
  std::uint64_t maxUs_ = 0;
};

}  // namespace weft::sample
