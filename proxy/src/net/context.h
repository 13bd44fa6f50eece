// Everything one worker's connections share: its upstream state, metric
// series, the current config table and the drain flag. Touched only on that
// worker's thread (config arrives by post()), so it needs no locks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proxy/src/config/snapshot.h"
#include "proxy/src/metrics/proxy_metrics.h"
#include "proxy/src/net/upstream.h"

namespace weft::proxy::tls {
class Credentials;
}

namespace weft::proxy::net {

struct Settings {
  std::chrono::milliseconds headerTimeout{10000};  // from first byte to end of headers
  std::chrono::milliseconds clientIdle{60000};     // keep-alive wait and body reads
  std::chrono::milliseconds detectTimeout{1000};
  std::size_t maxHeaderBytes = 64 * 1024;
  std::size_t maxHeaders = 100;
  std::size_t replayBytes = 64 * 1024;
  std::size_t maxIdlePerEndpoint = 256;
  std::vector<std::uint16_t> opaquePorts;
  // Inbound connections that were not redirected go to this loopback port
  // (0: none). For running without iptables, e.g. two proxies in tests.
  std::uint16_t inboundAppPort = 0;
  // The proxy has a workload identity: meshed endpoints are dialled with
  // mTLS, and inbound connections are checked for it even on opaque ports.
  // Without one (no token: local runs) everything stays plaintext.
  bool mtls = false;
  // Our own listeners: a destination equal to one of them would loop.
  std::vector<Tcp::endpoint> ownListeners;
  unsigned workers = 1;
};

// A live client connection, so drain can close the idle ones and the
// worker's sweep can enforce deadlines. One deadline per connection, set
// before each socket operation with a plain store: no timer syscalls on the
// request path (the sweep runs every kSweepInterval).
struct LiveConnection {
  Tcp::socket* socket = nullptr;
  Tcp::socket* upstream = nullptr;  // the upstream socket an exchange is using
  bool idle = false;                // waiting for the next request
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  bool deadlineOnUpstream = false;  // which socket the deadline guards
  bool cancelOnly = false;          // cancel the pending operation instead of closing
  bool timedOut = false;            // the sweep acted on the deadline

  // cancelOnly keeps the client socket open so the proxy can still answer
  // (408 for the header-read timeout).
  void expireClientAfter(std::chrono::milliseconds d, bool cancel = false) {
    arm(SteadyClock::now() + d, false);
    cancelOnly = cancel;
  }
  void expireUpstreamAt(SteadyClock::time_point t) { arm(t, true); }
  void expireNever() { arm(SteadyClock::time_point::max(), false); }
  void arm(SteadyClock::time_point t, bool onUpstream) {
    deadline = t;
    deadlineOnUpstream = onUpstream;
    cancelOnly = false;
    timedOut = false;
  }
};

inline constexpr std::chrono::milliseconds kSweepInterval{25};

struct WorkerContext {
  WorkerContext(const Settings& s, metrics::ProxyMetrics& m, unsigned index)
      : settings(s),
        metrics(m),
        series(m),
        random(0x9e3779b97f4a7c15ULL + index),
        destinations(s.workers, weft::SteadyClock::instance(), random) {}

  const Settings& settings;
  metrics::ProxyMetrics& metrics;
  metrics::SeriesCache series;
  resilience::SeededRandom random;
  ConnectionPool pool;
  Destinations destinations;
  config::SnapshotPtr table;  // never null once serving
  // The workload's mTLS credentials, posted like the table; null until the
  // first certificate. A connection keeps the one its handshake used.
  std::shared_ptr<const tls::Credentials> credentials;

  // A new config: later requests use it, and balancers follow its endpoints.
  void setTable(config::SnapshotPtr t) {
    table = std::move(t);
    destinations.sync(*table);
  }
  bool draining = false;
  std::list<LiveConnection> live;
  // Read by the main thread while draining.
  std::atomic<int> liveCount{0};
  // Asks the control plane for an authority nobody configured yet (set when
  // running with --control-plane). Called once per authority and worker.
  std::function<void(const std::string&)> subscribe;
  // Subscribed authorities, each with the end of its first-document wait.
  std::unordered_map<std::string, SteadyClock::time_point> subscribed;
  // Subscribes to `authority` unless done already, and returns until when a
  // request for it may wait for its first document: kFirstDocumentWait after
  // the subscription began. Every request in that window waits, not only the
  // one that subscribed, so concurrent first requests are not sent unrouted.
  // time_point::min() when there is nothing to wait for.
  SteadyClock::time_point subscribeOnce(const std::string& authority) {
    if (!subscribe || authority.empty()) {
      return SteadyClock::time_point::min();
    }
    if (auto it = subscribed.find(authority); it != subscribed.end()) {
      return it->second;
    }
    if (subscribed.size() >= kMaxSubscriptions) {
      // bounded: a client dialing random names cannot grow this
      return SteadyClock::time_point::min();
    }
    auto until = SteadyClock::now() + kFirstDocumentWait;
    subscribed.emplace(authority, until);
    subscribe(authority);
    return until;
  }
  static constexpr std::size_t kMaxSubscriptions = 10000;
  static constexpr std::chrono::seconds kFirstDocumentWait{1};

  // Destinations whose clients sent nothing within the detection timeout:
  // server-speaks-first protocols, forwarded as TCP at once from now on.
  std::unordered_set<Tcp::endpoint, EndpointHash> opaqueDestinations;
  static constexpr std::size_t kMaxOpaqueDestinations = 10000;

  // Closes the socket of every connection past its deadline; run every
  // kSweepInterval by the worker.
  void sweep(SteadyClock::time_point now) {
    for (auto& c : live) {
      if (now < c.deadline) {
        continue;
      }
      c.deadline = SteadyClock::time_point::max();
      c.timedOut = true;
      boost::system::error_code ignored;
      if (c.deadlineOnUpstream && c.upstream != nullptr) {
        c.upstream->close(ignored);
      } else if (c.socket != nullptr && c.cancelOnly) {
        c.socket->cancel(ignored);
      } else if (c.socket != nullptr) {
        c.socket->close(ignored);
      }
    }
  }

  bool isOwnListener(const Tcp::endpoint& ep) const {
    for (const auto& l : settings.ownListeners) {
      if (l.port() == ep.port() && (l.address() == ep.address() || l.address().is_unspecified())) {
        return true;
      }
    }
    return false;
  }
};

// Registers a connection for the lifetime of this guard.
class LiveGuard {
 public:
  LiveGuard(WorkerContext& ctx, Tcp::socket& s) : ctx_(ctx) {
    it_ = ctx_.live.insert(ctx_.live.end(), LiveConnection{});
    it_->socket = &s;
    ctx_.liveCount.fetch_add(1, std::memory_order_relaxed);
  }
  ~LiveGuard() {
    ctx_.live.erase(it_);
    ctx_.liveCount.fetch_sub(1, std::memory_order_relaxed);
  }
  LiveGuard(const LiveGuard&) = delete;
  LiveGuard& operator=(const LiveGuard&) = delete;
  LiveConnection& get() { return *it_; }

 private:
  WorkerContext& ctx_;
  std::list<LiveConnection>::iterator it_;
};

}  // namespace weft::proxy::net
