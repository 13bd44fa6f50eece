// Internal: per-endpoint state shared by the balancers and their handles.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/lb/peak_ewma.h"
#include "proxy/src/resilience/outlier_detector.h"

namespace weft::proxy::lb::detail {

struct EndpointState : std::enable_shared_from_this<EndpointState> {
  EndpointState(const Endpoint& endpoint, const BalancerSettings& settings, Clock::TimePoint now)
      : address(endpoint.address),
        weight(endpoint.weight),
        ready(endpoint.ready),
        ewma(settings.ewmaDecay, settings.defaultRtt, now) {}

  std::string address;
  std::uint32_t weight;
  bool ready;
  std::uint32_t outstanding = 0;
  PeakEwma ewma;
  std::int64_t rrCurrent = 0;  // smooth weighted round robin's running weight
  // Outlier admission computed during the current pick.
  resilience::OutlierDetector::Admission admission = resilience::OutlierDetector::Admission::kYes;
};

// What handles need after the balancer may be gone.
struct Shared {
  Shared(const BalancerSettings& s, const Clock& c)
      : settings(s), clock(&c), outliers(s.outliers, c) {}

  BalancerSettings settings;
  const Clock* clock;
  resilience::OutlierDetector outliers;
};

}  // namespace weft::proxy::lb::detail
