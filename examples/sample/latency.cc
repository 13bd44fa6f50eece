// Log-linear latency histogram.
#include "examples/sample/latency.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace weft::sample {

std::size_t LatencyHistogram::bucketOf(std::uint64_t us) {
  if (us < kLinear) {
    return static_cast<std::size_t>(us);
  }
  // us has `width` bits; its top 7 bits (64..127) pick the sub-bucket.
  auto shift = static_cast<std::size_t>(std::bit_width(us)) - 7;
  std::size_t bucket =
      kLinear + (shift - 1) * kSub + static_cast<std::size_t>((us >> shift) - kSub);
  return std::min(bucket, kBuckets - 1);
}

std::uint64_t LatencyHistogram::upperBoundOf(std::size_t bucket) {
  if (bucket < kLinear) {
    return bucket;
  }
  std::size_t shift = (bucket - kLinear) / kSub + 1;
  std::uint64_t top = (bucket - kLinear) % kSub + kSub;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(std::chrono::microseconds latency) {
  auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
  ++buckets_[bucketOf(us)];
  ++count_;
  sumUs_ += us;
  maxUs_ = std::max(maxUs_, us);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  sumUs_ += other.sumUs_;
  maxUs_ = std::max(maxUs_, other.maxUs_);
}

double LatencyHistogram::quantileMs(double q) const {
  if (count_ == 0) {
    return 0;
  }
  auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // The bucket's upper bound, but never above the largest value seen.
      return static_cast<double>(std::min(upperBoundOf(i), maxUs_)) / 1000.0;
    }
  }
  return maxMs();
}

double LatencyHistogram::meanMs() const {
  return count_ == 0 ? 0 : static_cast<double>(sumUs_) / static_cast<double>(count_) / 1000.0;
}

}  // namespace weft::sample
