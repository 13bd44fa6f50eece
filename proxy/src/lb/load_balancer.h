// LoadBalancer: picks an endpoint for each request from a set that changes with config.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "proxy/src/resilience/outlier_detector.h"
#include "proxy/src/resilience/random.h"
#include "proxy/src/resilience/retry.h"

namespace weft::proxy::lb {

// One endpoint of a backend, from backends.<name>.endpoints[] in docs/api.md.
struct Endpoint {
  std::string address;       // "ip:port"; identifies the endpoint across updates
  std::uint32_t weight = 1;  // 0: takes no new requests
  bool ready = true;         // the caller passes `ready && !terminating`
};

// Maps policy.loadBalancer in docs/api.md.
enum class Algorithm { kP2cEwma, kRoundRobin, kLeastRequest };
// "p2c-ewma" | "round-robin" | "least-request".
Result<Algorithm> parseAlgorithm(std::string_view name);
std::string_view toString(Algorithm algorithm);

struct BalancerSettings {
  Algorithm algorithm = Algorithm::kP2cEwma;  // policy.loadBalancer
  // Peak-EWMA time constant (Linkerd: 10 s).
  Clock::Duration ewmaDecay = std::chrono::seconds(10);
  // The estimate a new endpoint starts with (Linkerd's default_rtt), so an
  // endpoint without samples is not flooded as if it answered in zero time.
  Clock::Duration defaultRtt = std::chrono::milliseconds(30);
  // Latency recorded for a connect failure, which fails fast and would
  // otherwise look like the best endpoint.
  Clock::Duration connectFailurePenalty = std::chrono::seconds(1);
  // When more than this share of the ready endpoints is ejected, ejection is
  // ignored and all of them are used (Envoy's panic threshold).
  std::uint32_t panicPercent = 50;
  resilience::OutlierSettings outliers;  // policy.outlierDetection
};

// How a request sent through a handle ended, for latency and outlier detection.
//   connect refused/timeout, reset before sent          -> kConnectFailure
//   5xx, per-try timeout, reset after sent              -> kFailure
//   any other response                                  -> kSuccess
enum class Outcome { kSuccess, kFailure, kConnectFailure };
// The mapping above, from what the retry layer saw.
Outcome endpointOutcome(const resilience::AttemptOutcome& attempt);

namespace detail {
struct EndpointState;
struct Shared;
}  // namespace detail

// One request's claim on an endpoint: counts as outstanding from pick() until
// complete() or destruction, and records its latency and outcome. Move-only.
// Safe to outlive its LoadBalancer (state is shared), so a request started
// under an old config finishes cleanly. Use on the balancer's thread only.
class EndpointHandle {
 public:
  EndpointHandle(EndpointHandle&& other) noexcept;
  EndpointHandle& operator=(EndpointHandle&& other) noexcept;
  EndpointHandle(const EndpointHandle&) = delete;
  EndpointHandle& operator=(const EndpointHandle&) = delete;
  // Without complete(): cancelled; no latency, no outlier verdict.
  ~EndpointHandle();

  const std::string& address() const;
  // This request is the single probe of an endpoint coming back from ejection.
  bool isProbe() const { return probe_; }
  // Records latency (now - pick time) and the outcome; later calls do nothing.
  void complete(Outcome outcome);

 private:
  friend class LoadBalancer;
  EndpointHandle(std::shared_ptr<detail::EndpointState> state,
                 std::shared_ptr<detail::Shared> shared, Clock::TimePoint start, bool probe);
  void finish(const Outcome* outcome);

  std::shared_ptr<detail::EndpointState> state_;
  std::shared_ptr<detail::Shared> shared_;
  Clock::TimePoint start_;
  bool probe_ = false;
};

// Picks among ready endpoints with weight > 0 that outlier detection admits.
// If more than panicPercent of those would be left out by ejection, all of
// them are used instead. `exclude` (addresses already tried by this request)
// is a preference: when it would leave nothing, it is ignored, so a retry
// with a single endpoint still goes somewhere.
// Owned by one worker; not thread-safe. The clock and random source must
// outlive it.
class LoadBalancer {
 public:
  virtual ~LoadBalancer();
  LoadBalancer(const LoadBalancer&) = delete;
  LoadBalancer& operator=(const LoadBalancer&) = delete;

  // Replaces the endpoint set. An endpoint whose address is unchanged keeps
  // its state (latency estimate, outstanding requests, ejection, round-robin
  // position); weight and readiness are taken from the new entry. Duplicate
  // addresses: the first wins.
  void update(std::span<const Endpoint> endpoints);
  // Outlier settings and panic threshold; the algorithm is fixed at creation.
  void setSettings(const BalancerSettings& settings);

  // kUnavailable when no endpoint is ready (weft-error no_endpoints).
  Result<EndpointHandle> pick(std::span<const std::string> exclude = {});

  std::size_t size() const { return endpoints_.size(); }
  // Endpoints that are ready with weight > 0, ejected or not.
  std::size_t readyCount() const { return ready_.size(); }
  // Requests in flight to that address (0 when unknown).
  std::uint32_t outstanding(std::string_view address) const;
  const resilience::OutlierDetector& outliers() const;
  std::uint64_t panics() const { return panics_; }  // picks made in panic mode

 protected:
  LoadBalancer(const BalancerSettings& settings, const Clock& clock, resilience::Random& random);

  // The endpoints to choose among with their cumulative weights
  // (prefix[i] = weight[0] + ... + weight[i]); never empty.
  struct Candidates {
    std::span<detail::EndpointState* const> endpoints;
    std::span<const std::uint64_t> prefix;
  };
  // Index into candidates.endpoints.
  virtual std::size_t choose(const Candidates& candidates) = 0;

  const Clock& clock() const;
  resilience::Random& random() { return *random_; }
  const detail::EndpointState* find(std::string_view address) const;

 private:
  void rebuildReady();

  std::shared_ptr<detail::Shared> shared_;
  resilience::Random* random_;
  std::vector<std::shared_ptr<detail::EndpointState>> endpoints_;
  std::vector<detail::EndpointState*> ready_;
  std::vector<std::uint64_t> readyPrefix_;
  // Per-pick scratch, kept to avoid allocating on the request path.
  std::vector<detail::EndpointState*> admitted_;
  std::vector<detail::EndpointState*> filtered_;
  std::vector<std::uint64_t> filteredPrefix_;
  std::uint64_t panics_ = 0;
};

// The balancer for settings.algorithm.
std::unique_ptr<LoadBalancer> makeLoadBalancer(const BalancerSettings& settings, const Clock& clock,
                                               resilience::Random& random);

}  // namespace weft::proxy::lb
