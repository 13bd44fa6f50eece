// RoundRobinBalancer: smooth weighted round robin (nginx).
#pragma once

#include "proxy/src/lb/load_balancer.h"

namespace weft::proxy::lb {

// nginx's smooth weighted round robin: each pick adds every candidate's weight
// to its running value, takes the largest and subtracts the candidates' total
// from it. Weights 5,1,1 give a,a,b,a,c,a,a rather than a burst of five a's.
// Running values survive endpoint updates, so a config change does not restart
// the rotation.
class RoundRobinBalancer final : public LoadBalancer {
 public:
  RoundRobinBalancer(const BalancerSettings& settings, const Clock& clock,
                     resilience::Random& random)
      : LoadBalancer(settings, clock, random) {}

 protected:
  // LoadBalancer
  std::size_t choose(const Candidates& candidates) override;
};

}  // namespace weft::proxy::lb
