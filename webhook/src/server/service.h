// The injector's HTTP routes: POST /mutate (AdmissionReview), GET /healthz
// (alive), GET /readyz (able to mesh pods: 503 saying why while not),
// GET /metrics. Plugged into common/http's Server as its handler.
#pragma once

#include <functional>
#include <string>

#include "common/http/server.h"
#include "webhook/src/admission/review.h"
#include "webhook/src/server/metrics.h"

namespace weft::webhook::server {

class InjectorService {
 public:
  // Returns why the injector is not ready, or "" when it is; any thread.
  using Unready = std::function<std::string()>;

  // Both must outlive the service. Thread-safe.
  InjectorService(const admission::Mutator& mutator, AdmissionMetrics& metrics,
                  Unready unready = {})
      : mutator_(mutator), metrics_(metrics), unready_(std::move(unready)) {}

  http::Response handle(const http::Request& request);

 private:
  const admission::Mutator& mutator_;
  AdmissionMetrics& metrics_;
  Unready unready_;
};

}  // namespace weft::webhook::server
