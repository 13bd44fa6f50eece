// Fault injection: decide per request whether to delay it and whether to answer it with an error.
#pragma once

#include <cstdint>
#include <optional>

#include "common/clock.h"
#include "common/result.h"
#include "proxy/src/resilience/random.h"

namespace weft::proxy::route {

// Maps routes[].fault in docs/api.md:
// {delay: {duration: 100ms, percent: 10}, abort: {status: 503, percent: 5}}.
struct FaultDelay {
  Clock::Duration duration{};
  double percent = 0;  // of requests, [0, 100]
};
struct FaultAbort {
  std::uint16_t status = 503;
  double percent = 0;
};
struct FaultSettings {
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;
};

// Percents within [0, 100]; delay duration within [0, 1 h]; abort status
// within [200, 599] (Envoy's range).
Result<void> validate(const FaultSettings& settings);

struct FaultDecision {
  Clock::Duration delay{};                   // wait this long first (zero: no delay)
  std::optional<std::uint16_t> abortStatus;  // then answer with this instead of forwarding
};

// Independent draws for delay and abort, as Envoy's fault filter: a request
// may be delayed and then aborted.
FaultDecision decideFault(const FaultSettings& settings, resilience::Random& random);

}  // namespace weft::proxy::route
