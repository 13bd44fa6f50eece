// Prometheus text exposition of the injector's counters.
#include "webhook/src/server/metrics.h"

#include <fmt/format.h>

namespace weft::webhook::server {

void AdmissionMetrics::record(std::string_view result, double seconds) {
  std::lock_guard lock(mu_);
  ++byResult_[std::string(result)];
  ++count_;
  sum_ += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++buckets_[i];
      break;
    }
  }
}

std::string AdmissionMetrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP weft_injector_admissions_total Admission reviews answered, by result.\n";
  out += "# TYPE weft_injector_admissions_total counter\n";
  for (const auto& [result, n] : byResult_) {
    out += fmt::format("weft_injector_admissions_total{{result=\"{}\"}} {}\n", result, n);
  }
  out += "# HELP weft_injector_admission_duration_seconds Time to answer an admission review.\n";
  out += "# TYPE weft_injector_admission_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out += fmt::format("weft_injector_admission_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       kBuckets[i], cumulative);
  }
  out += fmt::format("weft_injector_admission_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", count_);
  out += fmt::format("weft_injector_admission_duration_seconds_sum {}\n", sum_);
  out += fmt::format("weft_injector_admission_duration_seconds_count {}\n", count_);
  return out;
}

}  // namespace weft::webhook::server
