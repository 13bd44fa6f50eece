// P2cBalancer: weighted draw of two, cheaper wins.
#include "proxy/src/lb/p2c.h"

#include <algorithm>

#include "proxy/src/lb/endpoint_state.h"

namespace weft::proxy::lb {

P2cBalancer::P2cBalancer(Cost cost, const BalancerSettings& settings, const Clock& clock,
                         resilience::Random& random)
    : LoadBalancer(settings, clock, random), cost_(cost) {}

double P2cBalancer::cost(const detail::EndpointState& state, Clock::TimePoint now) const {
  const double pending = static_cast<double>(state.outstanding);
  if (cost_ == Cost::kOutstanding) {
    return pending;
  }
  // The floor keeps outstanding requests counting once the estimate has
  // decayed to nothing (Finagle adds the pending count in that case).
  return std::max(state.ewma.estimateNanos(now), 1.0) * (pending + 1.0);
}

double P2cBalancer::costOf(std::string_view address) const {
  const auto* state = find(address);
  return state != nullptr ? cost(*state, clock().now()) : 0.0;
}

std::size_t P2cBalancer::choose(const Candidates& candidates) {
  const std::size_t n = candidates.endpoints.size();
  if (n <= 1) {
    return 0;
  }
  const auto& prefix = candidates.prefix;
  const std::uint64_t total = prefix.back();
  const auto indexOf = [&](std::uint64_t r) {
    return static_cast<std::size_t>(std::upper_bound(prefix.begin(), prefix.end(), r) -
                                    prefix.begin());
  };
  const std::size_t first = indexOf(random().uniform(total));
  const std::uint64_t before = first == 0 ? 0 : prefix[first - 1];
  const std::uint64_t weight = prefix[first] - before;
  // Draw from the others' weight and step over the first's range, so the
  // second is distinct without retrying.
  std::uint64_t r = random().uniform(total - weight);
  if (r >= before) {
    r += weight;
  }
  const std::size_t second = indexOf(r);
  const auto now = clock().now();
  return cost(*candidates.endpoints[second], now) < cost(*candidates.endpoints[first], now) ? second
                                                                                            : first;
}

}  // namespace weft::proxy::lb
