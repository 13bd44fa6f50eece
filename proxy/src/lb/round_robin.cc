// RoundRobinBalancer: smooth weighted round robin over the candidates.
#include "proxy/src/lb/round_robin.h"

#include "proxy/src/lb/endpoint_state.h"

namespace weft::proxy::lb {

std::size_t RoundRobinBalancer::choose(const Candidates& candidates) {
  const auto& endpoints = candidates.endpoints;
  const auto total = static_cast<std::int64_t>(candidates.prefix.back());
  std::size_t best = 0;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    endpoints[i]->rrCurrent += endpoints[i]->weight;
    if (endpoints[i]->rrCurrent > endpoints[best]->rrCurrent) {
      best = i;
    }
  }
  endpoints[best]->rrCurrent -= total;
  return best;
}

}  // namespace weft::proxy::lb
