// P2cBalancer: power of two choices, over peak-EWMA cost (default) or outstanding requests.
#pragma once

#include "proxy/src/lb/load_balancer.h"

namespace weft::proxy::lb {

// Draws two distinct candidates with probability proportional to weight and
// sends to the cheaper; on a tie the first drawn wins, so with equal costs the
// traffic split follows the weights exactly.
//   kPeakEwma:    cost = peak-EWMA latency * (outstanding + 1)  (Linkerd, Finagle)
//   kOutstanding: cost = outstanding requests                   (least-request)
class P2cBalancer final : public LoadBalancer {
 public:
  enum class Cost { kPeakEwma, kOutstanding };

  P2cBalancer(Cost cost, const BalancerSettings& settings, const Clock& clock,
              resilience::Random& random);

  // The cost of an endpoint now, as compared by this balancer (for tests and /config).
  double costOf(std::string_view address) const;

 protected:
  // LoadBalancer
  std::size_t choose(const Candidates& candidates) override;

 private:
  double cost(const detail::EndpointState& state, Clock::TimePoint now) const;

  Cost cost_;
};

}  // namespace weft::proxy::lb
