// LoadBalancer: endpoint bookkeeping, eligibility (ready, ejected, panic, exclude), handles.
#include "proxy/src/lb/load_balancer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "proxy/src/lb/endpoint_state.h"
#include "proxy/src/lb/p2c.h"
#include "proxy/src/lb/round_robin.h"

namespace weft::proxy::lb {

using resilience::OutlierDetector;

Result<Algorithm> parseAlgorithm(std::string_view name) {
  if (name == "p2c-ewma") {
    return Algorithm::kP2cEwma;
  }
  if (name == "round-robin") {
    return Algorithm::kRoundRobin;
  }
  if (name == "least-request") {
    return Algorithm::kLeastRequest;
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "loadBalancer: unknown algorithm \"" + std::string(name) +
                       "\" (want p2c-ewma, round-robin or least-request)");
}

std::string_view toString(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kP2cEwma:
      return "p2c-ewma";
    case Algorithm::kRoundRobin:
      return "round-robin";
    case Algorithm::kLeastRequest:
      return "least-request";
  }
  return "unknown";
}

Outcome endpointOutcome(const resilience::AttemptOutcome& attempt) {
  using Kind = resilience::AttemptOutcome::Kind;
  switch (attempt.kind) {
    case Kind::kConnectFailure:
    case Kind::kResetBeforeSent:
      return Outcome::kConnectFailure;
    case Kind::kResetAfterSent:
    case Kind::kTimeout:
      return Outcome::kFailure;
    case Kind::kResponse:
      break;
  }
  return attempt.status >= 500 ? Outcome::kFailure : Outcome::kSuccess;
}

// EndpointHandle

EndpointHandle::EndpointHandle(std::shared_ptr<detail::EndpointState> state,
                               std::shared_ptr<detail::Shared> shared, Clock::TimePoint start,
                               bool probe)
    : state_(std::move(state)), shared_(std::move(shared)), start_(start), probe_(probe) {}

EndpointHandle::EndpointHandle(EndpointHandle&& other) noexcept
    : state_(std::move(other.state_)),
      shared_(std::move(other.shared_)),
      start_(other.start_),
      probe_(other.probe_) {}

EndpointHandle& EndpointHandle::operator=(EndpointHandle&& other) noexcept {
  if (this != &other) {
    finish(nullptr);
    state_ = std::move(other.state_);
    shared_ = std::move(other.shared_);
    start_ = other.start_;
    probe_ = other.probe_;
  }
  return *this;
}

EndpointHandle::~EndpointHandle() { finish(nullptr); }

const std::string& EndpointHandle::address() const {
  static const std::string kNone;
  return state_ ? state_->address : kNone;
}

void EndpointHandle::complete(Outcome outcome) { finish(&outcome); }

void EndpointHandle::finish(const Outcome* outcome) {
  if (!state_) {
    return;
  }
  if (state_->outstanding > 0) {
    --state_->outstanding;
  }
  auto& outliers = shared_->outliers;
  if (outcome != nullptr) {
    const auto now = shared_->clock->now();
    auto rtt = now - start_;
    if (*outcome == Outcome::kConnectFailure) {
      rtt = std::max(rtt, shared_->settings.connectFailurePenalty);
    }
    state_->ewma.observe(rtt, now);
    if (*outcome == Outcome::kSuccess) {
      outliers.onSuccess(state_->address, probe_);
    } else {
      outliers.onFailure(state_->address, probe_);
    }
  } else if (probe_) {
    outliers.onProbeCancelled(state_->address);
  }
  state_.reset();
  shared_.reset();
}

// LoadBalancer

LoadBalancer::LoadBalancer(const BalancerSettings& settings, const Clock& clock,
                           resilience::Random& random)
    : shared_(std::make_shared<detail::Shared>(settings, clock)), random_(&random) {}

LoadBalancer::~LoadBalancer() = default;

const Clock& LoadBalancer::clock() const { return *shared_->clock; }

const OutlierDetector& LoadBalancer::outliers() const { return shared_->outliers; }

void LoadBalancer::setSettings(const BalancerSettings& settings) {
  const auto algorithm = shared_->settings.algorithm;
  shared_->settings = settings;
  shared_->settings.algorithm = algorithm;
  shared_->outliers.setSettings(settings.outliers);
}

void LoadBalancer::update(std::span<const Endpoint> endpoints) {
  std::unordered_map<std::string_view, std::shared_ptr<detail::EndpointState>> old;
  old.reserve(endpoints_.size());
  for (const auto& state : endpoints_) {
    old.emplace(state->address, state);
  }
  std::vector<std::shared_ptr<detail::EndpointState>> next;
  std::vector<std::string> addresses;
  std::unordered_set<std::string_view> seen;
  next.reserve(endpoints.size());
  addresses.reserve(endpoints.size());
  const auto now = clock().now();
  for (const auto& endpoint : endpoints) {
    if (!seen.insert(endpoint.address).second) {
      continue;
    }
    addresses.push_back(endpoint.address);
    auto it = old.find(endpoint.address);
    if (it != old.end()) {
      it->second->weight = endpoint.weight;
      it->second->ready = endpoint.ready;
      next.push_back(it->second);
    } else {
      next.push_back(std::make_shared<detail::EndpointState>(endpoint, shared_->settings, now));
    }
  }
  endpoints_ = std::move(next);
  shared_->outliers.update(addresses);
  rebuildReady();
}

void LoadBalancer::rebuildReady() {
  ready_.clear();
  readyPrefix_.clear();
  std::uint64_t sum = 0;
  for (const auto& state : endpoints_) {
    if (state->ready && state->weight > 0) {
      ready_.push_back(state.get());
      sum += state->weight;
      readyPrefix_.push_back(sum);
    }
  }
}

const detail::EndpointState* LoadBalancer::find(std::string_view address) const {
  for (const auto& state : endpoints_) {
    if (state->address == address) {
      return state.get();
    }
  }
  return nullptr;
}

std::uint32_t LoadBalancer::outstanding(std::string_view address) const {
  const auto* state = find(address);
  return state != nullptr ? state->outstanding : 0;
}

Result<EndpointHandle> LoadBalancer::pick(std::span<const std::string> exclude) {
  if (ready_.empty()) {
    return makeError(ErrorCode::kUnavailable, "no ready endpoints");
  }
  auto& outliers = shared_->outliers;
  const bool anyEjected = outliers.ejectedCount() > 0;
  Candidates candidates{ready_, readyPrefix_};
  if (anyEjected || !exclude.empty()) {
    std::span<detail::EndpointState* const> base = ready_;
    if (anyEjected) {
      admitted_.clear();
      for (auto* state : ready_) {
        state->admission = outliers.admit(state->address);
        if (state->admission != OutlierDetector::Admission::kNo) {
          admitted_.push_back(state);
        }
      }
      const std::size_t left = ready_.size() - admitted_.size();
      const auto threshold = std::min<std::uint32_t>(shared_->settings.panicPercent, 100);
      if (admitted_.empty() || left * 100 > ready_.size() * threshold) {
        ++panics_;
      } else {
        base = admitted_;
      }
    }
    filtered_.clear();
    for (auto* state : base) {
      if (std::find(exclude.begin(), exclude.end(), state->address) == exclude.end()) {
        filtered_.push_back(state);
      }
    }
    if (filtered_.empty()) {
      filtered_.assign(base.begin(), base.end());
    }
    filteredPrefix_.clear();
    std::uint64_t sum = 0;
    for (auto* state : filtered_) {
      sum += state->weight;
      filteredPrefix_.push_back(sum);
    }
    candidates = Candidates{filtered_, filteredPrefix_};
  }
  const std::size_t index = std::min(choose(candidates), candidates.endpoints.size() - 1);
  detail::EndpointState* chosen = candidates.endpoints[index];
  // Probes run in panic mode too: otherwise ejected endpoints could never
  // come back and the panic would last until the endpoint set changed.
  const bool probe = anyEjected && chosen->admission == OutlierDetector::Admission::kProbe &&
                     outliers.startProbe(chosen->address);
  ++chosen->outstanding;
  return EndpointHandle(chosen->shared_from_this(), shared_, clock().now(), probe);
}

std::unique_ptr<LoadBalancer> makeLoadBalancer(const BalancerSettings& settings, const Clock& clock,
                                               resilience::Random& random) {
  switch (settings.algorithm) {
    case Algorithm::kRoundRobin:
      return std::make_unique<RoundRobinBalancer>(settings, clock, random);
    case Algorithm::kLeastRequest:
      return std::make_unique<P2cBalancer>(P2cBalancer::Cost::kOutstanding, settings, clock,
                                           random);
    case Algorithm::kP2cEwma:
      break;
  }
  return std::make_unique<P2cBalancer>(P2cBalancer::Cost::kPeakEwma, settings, clock, random);
}

}  // namespace weft::proxy::lb
