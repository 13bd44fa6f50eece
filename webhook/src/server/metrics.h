// The injector's metrics in Prometheus text format: admissions by result and a
// latency histogram. TODO(webhook): move onto common/metrics once it lands.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace weft::webhook::server {

class AdmissionMetrics {
 public:
  static constexpr std::array<double, 11> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0};

  // Thread-safe.
  void record(std::string_view result, double seconds);
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> byResult_;
  std::array<std::uint64_t, kBuckets.size()> buckets_{};  // non-cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace weft::webhook::server
