// Per-worker upstream state that outlives config swaps: each endpoint's
// latency estimate, failures, ejection and idle connections, and each
// destination's retry budget and request limits. Single-threaded: only the
// owning worker touches it, so nothing here locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/api/documents.h"
#include "common/asio.h"
#include "proxy/src/resilience/retry_budget.h"

namespace weft::proxy::net {

using Tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Hash of an IP endpoint (Boost 1.74 gives std::hash none).
struct EndpointHash {
  std::size_t operator()(const Tcp::endpoint& ep) const noexcept;
};

struct EndpointState {
  Tcp::endpoint address;
  double ewmaSeconds = 0;  // peak-EWMA of response latency; 0 = no sample yet
  SteadyClock::time_point lastSample{};
  int inflight = 0;
  int consecutiveFailures = 0;
  int ejections = 0;
  SteadyClock::time_point ejectedUntil{};
  struct Idle {
    Tcp::socket socket;
    SteadyClock::time_point since;
  };
  std::vector<Idle> idle;  // pooled keep-alive connections, most recent last
};

// Why no endpoint could be chosen.
enum class PickFailure { kNone, kNoEndpoints, kAllEjected };

struct DestinationState {
  // The policy's budget, split across workers; rebuilt when the policy changes.
  std::unique_ptr<resilience::RetryBudget> budget;
  api::RetryBudget budgetSettings;
  int activeRequests = 0;
  int connections = 0;
};

class Upstreams {
 public:
  explicit Upstreams(unsigned workers, std::uint64_t seed);

  EndpointState& endpoint(const Tcp::endpoint& address);
  DestinationState& destination(const std::string& authority);

  // Chooses among the ready endpoints of `backend` by the balancer of
  // `policy`, skipping ejected ones (unless more than maxEjectionPercent are
  // ejected) and, when another choice exists, those in `tried`.
  EndpointState* pick(const api::Backend& backend, const api::Policy& policy,
                      const std::vector<EndpointState*>& tried, PickFailure& why);

  // Outcome of one try on `e`: latency feeds the EWMA; failures (connect
  // errors, 5xx) count toward ejection. Returns true when this ejected it.
  bool record(EndpointState& e, const api::OutlierDetection& od, bool success,
              std::chrono::nanoseconds latency);

  // Retry budget (resilience::RetryBudget): every request deposits, a retry
  // withdraws. Per worker, so the per-second floor is split across workers.
  void depositRequest(DestinationState& d, const api::RetryBudget& b);
  bool withdrawRetry(DestinationState& d, const api::RetryBudget& b);

  // A per-worker share of a destination-wide limit (at least 1).
  std::int64_t share(std::int64_t limit) const;

  // Exponential backoff with full jitter for retry number `n` (1-based).
  std::chrono::milliseconds backoff(const api::Backoff& b, int n);

  // Takes a pooled connection that is still open and fresh, else none.
  bool takeIdle(EndpointState& e, std::chrono::milliseconds maxIdle, Tcp::socket& out);
  void putIdle(EndpointState& e, Tcp::socket socket, std::size_t maxPerEndpoint);
  // Closes every idle connection (shutdown).
  void closeIdle();
  // Forgets endpoints not in use (no request, no pooled connection, not
  // ejected) once more than kMaxEndpoints are known, so passthrough traffic to
  // many addresses cannot grow memory without bound. Call it only where no
  // EndpointState pointer without an inflight count is held.
  void evictIdle();
  static constexpr std::size_t kMaxEndpoints = 4096;
  std::size_t endpointCount() const { return endpoints_.size(); }

 private:
  unsigned workers_;
  std::mt19937_64 rng_;
  std::unordered_map<Tcp::endpoint, EndpointState, EndpointHash> endpoints_;
  std::unordered_map<std::string, DestinationState> destinations_;
  // Resolved addresses of documents' endpoint strings, so parsing happens once.
  std::unordered_map<std::string, Tcp::endpoint> parsed_;
  std::vector<EndpointState*> scratch_;
};

}  // namespace weft::proxy::net
