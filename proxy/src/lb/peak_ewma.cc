// PeakEwma arithmetic.
#include "proxy/src/lb/peak_ewma.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace weft::proxy::lb {

namespace {

double nanos(Clock::Duration d) {
  return std::chrono::duration<double, std::nano>(std::max(d, Clock::Duration::zero())).count();
}

}  // namespace

PeakEwma::PeakEwma(Clock::Duration decay, Clock::Duration initial, Clock::TimePoint now)
    : decayNanos_(std::max(nanos(decay), 1.0)), estimateNanos_(nanos(initial)), stamp_(now) {}

void PeakEwma::observe(Clock::Duration rtt, Clock::TimePoint now) {
  const double sample = nanos(rtt);
  if (sample > estimateNanos_) {
    estimateNanos_ = sample;
  } else {
    const double elapsed = now > stamp_ ? nanos(now - stamp_) : 0.0;
    const double w = std::exp(-elapsed / decayNanos_);
    estimateNanos_ = estimateNanos_ * w + sample * (1.0 - w);
  }
  stamp_ = std::max(stamp_, now);
}

double PeakEwma::estimateNanos(Clock::TimePoint now) const {
  const double elapsed = now > stamp_ ? nanos(now - stamp_) : 0.0;
  return estimateNanos_ * std::exp(-elapsed / decayNanos_);
}

}  // namespace weft::proxy::lb
