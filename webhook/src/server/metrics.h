// The injector's metrics on the shared registry (common/metrics): admissions
// by result and a latency histogram, served as Prometheus text on /metrics.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/metrics.h"

namespace weft::webhook::server {

class AdmissionMetrics {
 public:
  // Sub-millisecond resolution: a review normally takes well under 5 ms.
  static const std::vector<double>& buckets();

  AdmissionMetrics();
  // Thread-safe.
  void record(std::string_view result, double seconds);
  std::string render() const { return registry_.render(); }

 private:
  metrics::Registry registry_;
  metrics::CounterFamily& admissions_;  // label: result
  metrics::Histogram& duration_;
};

}  // namespace weft::webhook::server
