// The injector's HTTP routes: POST /mutate (AdmissionReview), GET /healthz,
// GET /metrics. Plugged into common/http's Server as its handler.
#pragma once

#include "common/http/server.h"
#include "webhook/src/admission/review.h"
#include "webhook/src/server/metrics.h"

namespace weft::webhook::server {

class InjectorService {
 public:
  // Both must outlive the service. Thread-safe.
  InjectorService(const admission::Mutator& mutator, AdmissionMetrics& metrics)
      : mutator_(mutator), metrics_(metrics) {}

  http::Response handle(const http::Request& request);

 private:
  const admission::Mutator& mutator_;
  AdmissionMetrics& metrics_;
};

}  // namespace weft::webhook::server
