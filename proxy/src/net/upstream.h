// Per-worker upstream state that outlives config swaps: each destination's
// balancers, limits and retry budget, and each endpoint's idle connections.
// Single-threaded: only the owning worker touches it, so nothing here locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/asio.h"
#include "common/clock.h"
#include "proxy/src/config/snapshot.h"
#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/net/stream.h"
#include "proxy/src/resilience/limits.h"
#include "proxy/src/resilience/random.h"
#include "proxy/src/resilience/readiness.h"
#include "proxy/src/resilience/retry_budget.h"

namespace weft::proxy::net {

using Tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Hash of an IP endpoint (Boost 1.74 gives std::hash none).
struct EndpointHash {
  std::size_t operator()(const Tcp::endpoint& ep) const noexcept;
};

// An open upstream connection and the destination connection slot it holds
// (released when it closes).
struct UpstreamConnection {
  Stream stream;
  std::optional<resilience::LimitGuard> slot;
  std::string peerIdentity;  // the verified SPIFFE ID under mTLS, else empty
};

// Idle keep-alive connections per endpoint address.
class ConnectionPool {
 public:
  struct Entry {
    Tcp::endpoint address;
    int inUse = 0;  // requests holding this entry: never evicted meanwhile
    struct Idle {
      UpstreamConnection connection;
      SteadyClock::time_point since;
    };
    std::vector<Idle> idle;  // most recent last
  };

  // The entry of "ip:port" (as the balancer names endpoints), nullptr when it
  // does not parse. Parsed once per address.
  Entry* find(std::string_view address);
  Entry& find(const Tcp::endpoint& address);

  // A pooled connection that is still open and fresh, else none. `identity`
  // is the peer the caller expects (empty: plaintext); others are dropped.
  std::optional<UpstreamConnection> take(Entry& e, std::chrono::milliseconds maxIdle,
                                         std::string_view identity = {});
  void put(Entry& e, UpstreamConnection c, std::size_t maxPerEndpoint);
  void closeAll();
  // Forgets unused entries once more than kMaxEntries are known, so
  // passthrough to many addresses cannot grow memory without bound.
  void evict();
  static constexpr std::size_t kMaxEntries = 4096;
  std::size_t size() const { return byEndpoint_.size(); }

 private:
  std::unordered_map<Tcp::endpoint, Entry, EndpointHash> byEndpoint_;
  struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Looked up by view: no string is built per request.
  std::unordered_map<std::string, Tcp::endpoint, ViewHash, std::equal_to<>> parsed_;
};

// One backend of a destination: its balancer and since when it has had no
// ready endpoint (fail fast after 3 s).
struct BackendState {
  BackendState(std::unique_ptr<lb::LoadBalancer> b, lb::Algorithm a, const Clock& clock)
      : balancer(std::move(b)), algorithm(a), readiness(clock) {}
  std::unique_ptr<lb::LoadBalancer> balancer;
  lb::Algorithm algorithm;  // fixed per balancer: a change makes a new one
  resilience::ReadinessTracker readiness;
  // Expected peer SPIFFE ID by endpoint address, for meshed endpoints only.
  std::unordered_map<std::string, std::string> identities;
  const std::string& identityOf(const std::string& address) const {
    static const std::string kNone;
    auto it = identities.find(address);
    return it == identities.end() ? kNone : it->second;
  }
};

// A destination (an Outbound's authority, an inbound port, or passthrough):
// limits and retry budget shared by its requests on this worker. Held by
// shared_ptr so a request outlives a config swap that drops it.
struct Destination {
  explicit Destination(std::string n) : name(std::move(n)) {}
  std::string name;
  resilience::Limits limits;
  std::unique_ptr<resilience::RetryBudget> budget;
  // By backend name; updated from every new snapshot.
  std::unordered_map<std::string, BackendState> backends;
};

class Destinations {
 public:
  // Limits and the retry budget's floor are split across `workers`.
  Destinations(unsigned workers, const Clock& clock, resilience::Random& random);

  // The state of `outbound` (from `table`), created on first use.
  std::shared_ptr<Destination> get(const config::Snapshot& table, const api::Outbound& outbound);
  // A destination without a document (passthrough, an inbound port): default
  // limits and budget, no balancer.
  std::shared_ptr<Destination> direct(const std::string& name);

  // Brings every known destination to `table`: balancers get the new endpoint
  // sets (keeping latency and ejection state per address), settings follow the
  // policy, and destinations the table no longer names are forgotten.
  void sync(const config::Snapshot& table);

  // A per-worker share of a destination-wide limit (at least 1).
  std::int64_t share(std::int64_t limit) const;

 private:
  void apply(Destination& d, const api::Outbound& outbound, const config::CompiledOutbound& c);

  unsigned workers_;
  const Clock* clock_;
  resilience::Random* random_;
  std::unordered_map<std::string, std::shared_ptr<Destination>> outbound_;
  std::unordered_map<std::string, std::shared_ptr<Destination>> direct_;
};

}  // namespace weft::proxy::net
