// Fault injection decisions.
#include "proxy/src/route/fault.h"

#include <chrono>
#include <cmath>

namespace weft::proxy::route {

namespace {

bool validPercent(double p) { return std::isfinite(p) && p >= 0.0 && p <= 100.0; }

}  // namespace

Result<void> validate(const FaultSettings& settings) {
  if (settings.delay) {
    if (!validPercent(settings.delay->percent)) {
      return makeError(ErrorCode::kInvalidArgument, "fault.delay.percent must be within [0, 100]");
    }
    if (settings.delay->duration < Clock::Duration::zero() ||
        settings.delay->duration > std::chrono::hours(1)) {
      return makeError(ErrorCode::kInvalidArgument, "fault.delay.duration must be within [0, 1h]");
    }
  }
  if (settings.abort) {
    if (!validPercent(settings.abort->percent)) {
      return makeError(ErrorCode::kInvalidArgument, "fault.abort.percent must be within [0, 100]");
    }
    if (settings.abort->status < 200 || settings.abort->status > 599) {
      return makeError(ErrorCode::kInvalidArgument, "fault.abort.status must be within [200, 599]");
    }
  }
  return okResult();
}

FaultDecision decideFault(const FaultSettings& settings, resilience::Random& random) {
  FaultDecision decision;
  if (settings.delay && random.chance(settings.delay->percent)) {
    decision.delay = settings.delay->duration;
  }
  if (settings.abort && random.chance(settings.abort->percent)) {
    decision.abortStatus = settings.abort->status;
  }
  return decision;
}

}  // namespace weft::proxy::route
