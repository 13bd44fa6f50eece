// PeakEwma: a latency estimate that jumps up on a slower sample and decays exponentially otherwise.
#pragma once

#include "common/clock.h"

namespace weft::proxy::lb {

// Linkerd's and Finagle's peak-EWMA (tower `peak_ewma.rs`): a sample above
// the estimate replaces it at once, so a slowing endpoint is avoided quickly;
// a lower one is blended in with weight 1 - exp(-elapsed / decay), so the
// estimate recovers smoothly. While no sample comes, the estimate decays
// towards zero with the same time constant, so an endpoint that was penalised
// gets tried again. Values are nanoseconds as doubles.
class PeakEwma {
 public:
  PeakEwma(Clock::Duration decay, Clock::Duration initial, Clock::TimePoint now);

  void observe(Clock::Duration rtt, Clock::TimePoint now);
  // The estimate as of `now` (does not change state).
  double estimateNanos(Clock::TimePoint now) const;

 private:
  double decayNanos_;
  double estimateNanos_;
  Clock::TimePoint stamp_;
};

}  // namespace weft::proxy::lb
