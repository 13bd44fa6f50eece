#include "webhook/src/server/metrics.h"

namespace weft::webhook::server {

const std::vector<double>& AdmissionMetrics::buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1.0};
  return kBuckets;
}

AdmissionMetrics::AdmissionMetrics()
    : admissions_(registry_.counter("weft_injector_admissions_total",
                                    "Admission reviews answered, by result.", {"result"}, 20)),
      duration_(registry_
                    .histogram("weft_injector_admission_duration_seconds",
                               "Time to answer an admission review.", buckets())
                    .get()) {}

void AdmissionMetrics::record(std::string_view result, double seconds) {
  admissions_.with({std::string(result)}).inc();
  duration_.observe(seconds);
}

}  // namespace weft::webhook::server
