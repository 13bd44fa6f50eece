// Peak-EWMA power of two choices, consecutive-failure ejection, retry budget.
#include "proxy/src/net/upstream.h"

#include <algorithm>
#include <cmath>

#include <sys/socket.h>

#include "common/clock.h"
#include "proxy/src/net/address.h"
#include "proxy/src/resilience/backoff.h"

namespace weft::proxy::net {
namespace {

// Unmeasured endpoints look fast enough to be tried, but not free.
constexpr double kDefaultLatency = 0.001;
constexpr double kDecaySeconds = 10.0;
constexpr int kMaxEjectionFactor = 10;
constexpr auto kPeekAfterIdle = std::chrono::milliseconds(200);

}  // namespace

std::size_t EndpointHash::operator()(const Tcp::endpoint& ep) const noexcept {
  std::size_t h = ep.port();
  if (ep.address().is_v4()) {
    h ^= std::hash<std::uint32_t>{}(ep.address().to_v4().to_uint()) * 31;
  } else {
    auto b = ep.address().to_v6().to_bytes();
    for (auto c : b) {
      h = h * 131 + c;
    }
  }
  return h;
}

Upstreams::Upstreams(unsigned workers, std::uint64_t seed)
    : workers_(workers == 0 ? 1 : workers), rng_(seed) {}

EndpointState& Upstreams::endpoint(const Tcp::endpoint& address) {
  auto it = endpoints_.find(address);
  if (it == endpoints_.end()) {
    it = endpoints_.emplace(address, EndpointState{address, 0, {}, 0, 0, 0, {}, {}}).first;
  }
  return it->second;
}

DestinationState& Upstreams::destination(const std::string& authority) {
  return destinations_[authority];
}

EndpointState* Upstreams::pick(const api::Backend& backend, const api::Policy& policy,
                               const std::vector<EndpointState*>& tried, PickFailure& why) {
  auto now = SteadyClock::now();
  scratch_.clear();
  std::vector<std::int64_t> weights;
  std::size_t ready = 0;
  std::size_t ejected = 0;
  for (const auto& ep : backend.endpoints) {
    if (!ep.ready || ep.terminating || ep.weight <= 0) {
      continue;
    }
    auto pit = parsed_.find(ep.address);
    if (pit == parsed_.end()) {
      auto parsed = parseEndpoint(ep.address);
      if (!parsed) {
        continue;
      }
      pit = parsed_.emplace(ep.address, *parsed).first;
    }
    ++ready;
    auto& st = endpoint(pit->second);
    if (st.ejectedUntil > now) {
      ++ejected;
    }
  }
  if (ready == 0) {
    why = PickFailure::kNoEndpoints;
    return nullptr;
  }
  // Beyond the ejection cap, use every endpoint rather than overload a few.
  bool honourEjection =
      ejected * 100 <= ready * static_cast<std::size_t>(policy.outlierDetection.maxEjectionPercent);
  auto collect = [&](bool skipTried) {
    scratch_.clear();
    weights.clear();
    for (const auto& ep : backend.endpoints) {
      if (!ep.ready || ep.terminating || ep.weight <= 0) {
        continue;
      }
      auto pit = parsed_.find(ep.address);
      if (pit == parsed_.end()) {
        continue;
      }
      auto& st = endpoint(pit->second);
      if (honourEjection && st.ejectedUntil > now) {
        continue;
      }
      if (skipTried && std::find(tried.begin(), tried.end(), &st) != tried.end()) {
        continue;
      }
      scratch_.push_back(&st);
      weights.push_back(ep.weight);
    }
  };
  collect(true);
  if (scratch_.empty()) {
    collect(false);
  }
  if (scratch_.empty()) {
    why = PickFailure::kAllEjected;
    return nullptr;
  }
  why = PickFailure::kNone;
  if (scratch_.size() == 1) {
    return scratch_[0];
  }
  if (policy.loadBalancer == api::LoadBalancerKind::kRoundRobin) {
    // Weighted random is round robin in expectation and needs no shared cursor.
    std::int64_t total = 0;
    for (auto w : weights) {
      total += w;
    }
    std::int64_t r = std::uniform_int_distribution<std::int64_t>(0, total - 1)(rng_);
    for (std::size_t i = 0; i < scratch_.size(); ++i) {
      if ((r -= weights[i]) < 0) {
        return scratch_[i];
      }
    }
    return scratch_.back();
  }
  std::uniform_int_distribution<std::size_t> dist(0, scratch_.size() - 1);
  std::size_t a = dist(rng_);
  std::size_t b = dist(rng_);
  if (a == b) {
    b = (a + 1) % scratch_.size();
  }
  auto cost = [&](std::size_t i) {
    const auto* s = scratch_[i];
    double w = static_cast<double>(weights[i]);
    if (policy.loadBalancer == api::LoadBalancerKind::kLeastRequest) {
      return (s->inflight + 1) / w;
    }
    double lat = s->ewmaSeconds > 0 ? s->ewmaSeconds : kDefaultLatency;
    return lat * (s->inflight + 1) / w;
  };
  return cost(a) <= cost(b) ? scratch_[a] : scratch_[b];
}

bool Upstreams::record(EndpointState& e, const api::OutlierDetection& od, bool success,
                       std::chrono::nanoseconds latency) {
  auto now = SteadyClock::now();
  double sample = std::chrono::duration<double>(latency).count();
  if (e.ewmaSeconds <= 0 || sample > e.ewmaSeconds) {
    // Peak: a slow response takes effect at once, recovery decays.
    e.ewmaSeconds = sample;
  } else {
    double dt = std::chrono::duration<double>(now - e.lastSample).count();
    double w = std::exp(-dt / kDecaySeconds);
    e.ewmaSeconds = e.ewmaSeconds * w + sample * (1 - w);
  }
  e.lastSample = now;
  if (success) {
    e.consecutiveFailures = 0;
    if (e.ejectedUntil <= now && e.ejections > 0 && e.ejectedUntil != SteadyClock::time_point{}) {
      e.ejections = std::max(0, e.ejections - 1);
    }
    return false;
  }
  if (++e.consecutiveFailures < od.consecutiveFailures || e.ejectedUntil > now) {
    return false;
  }
  e.consecutiveFailures = 0;
  e.ejections = std::min(e.ejections + 1, kMaxEjectionFactor);
  e.ejectedUntil = now + od.baseEjection * e.ejections;
  // Pooled connections to an ejected endpoint are not worth keeping.
  e.idle.clear();
  return true;
}

void Upstreams::depositRequest(DestinationState& d, const api::RetryBudget& b) {
  if (!d.budget || !(d.budgetSettings == b)) {
    resilience::RetryBudgetSettings settings;
    settings.ratio = b.ratio;
    settings.minPerSecond = b.minPerSecond / workers_;
    d.budget = std::make_unique<resilience::RetryBudget>(settings, weft::SteadyClock::instance());
    d.budgetSettings = b;
  }
  d.budget->deposit();
}

bool Upstreams::withdrawRetry(DestinationState& d, const api::RetryBudget& b) {
  (void)b;
  return d.budget && d.budget->tryWithdraw();
}

std::int64_t Upstreams::share(std::int64_t limit) const {
  return std::max<std::int64_t>(1, (limit + workers_ - 1) / workers_);
}

std::chrono::milliseconds Upstreams::backoff(const api::Backoff& b, int n) {
  resilience::BackoffSettings settings{b.base, b.max};
  auto cap = std::chrono::duration_cast<std::chrono::milliseconds>(
                 resilience::backoffCeiling(settings, static_cast<std::uint32_t>(std::max(n, 1))))
                 .count();
  if (cap <= 0) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, cap)(rng_));
}

bool Upstreams::takeIdle(EndpointState& e, std::chrono::milliseconds maxIdle, Tcp::socket& out) {
  auto now = SteadyClock::now();
  while (!e.idle.empty()) {
    auto idle = std::move(e.idle.back());
    e.idle.pop_back();
    if (now - idle.since > maxIdle) {
      continue;
    }
    // Under load a connection comes back within microseconds and a peek would
    // only cost a syscall; servers close idle connections after seconds.
    if (now - idle.since < kPeekAfterIdle) {
      out = std::move(idle.socket);
      return true;
    }
    // A peer that closed (or sent stray bytes) while idle makes it unusable.
    char c;
    ssize_t n = ::recv(idle.socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      out = std::move(idle.socket);
      return true;
    }
  }
  return false;
}

void Upstreams::putIdle(EndpointState& e, Tcp::socket socket, std::size_t maxPerEndpoint) {
  if (e.idle.size() >= maxPerEndpoint || e.ejectedUntil > SteadyClock::now()) {
    return;
  }
  e.idle.push_back(EndpointState::Idle{std::move(socket), SteadyClock::now()});
}

void Upstreams::closeIdle() {
  for (auto& [_, e] : endpoints_) {
    e.idle.clear();
  }
}

void Upstreams::evictIdle() {
  if (endpoints_.size() <= kMaxEndpoints) {
    return;
  }
  auto now = SteadyClock::now();
  for (auto it = endpoints_.begin(); it != endpoints_.end();) {
    const auto& e = it->second;
    if (e.inflight == 0 && e.idle.empty() && e.ejectedUntil <= now) {
      it = endpoints_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace weft::proxy::net
