// Connection pool and per-destination state kept in step with config snapshots.
#include "proxy/src/net/upstream.h"

#include <algorithm>
#include <unordered_set>

#include <sys/socket.h>

#include "proxy/src/net/address.h"
#include "proxy/src/route/from_api.h"

namespace weft::proxy::net {
namespace {

// Under load a connection comes back within microseconds and a peek would
// only cost a syscall; servers close idle connections after seconds.
constexpr auto kPeekAfterIdle = std::chrono::milliseconds(200);

bool sameBudget(const resilience::RetryBudgetSettings& a,
                const resilience::RetryBudgetSettings& b) {
  return a.ratio == b.ratio && a.minPerSecond == b.minPerSecond && a.window == b.window;
}

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

// ConnectionPool

ConnectionPool::Entry* ConnectionPool::find(std::string_view address) {
  auto it = parsed_.find(address);
  if (it == parsed_.end()) {
    auto ep = parseEndpoint(address);
    if (!ep) {
      return nullptr;
    }
    if (parsed_.size() >= kMaxEntries) {
      parsed_.clear();  // bounded: addresses come and go with endpoints
    }
    it = parsed_.emplace(std::string(address), *ep).first;
  }
  return &find(it->second);
}

ConnectionPool::Entry& ConnectionPool::find(const Tcp::endpoint& address) {
  auto it = byEndpoint_.find(address);
  if (it == byEndpoint_.end()) {
    it = byEndpoint_.emplace(address, Entry{address, 0, {}}).first;
  }
  return it->second;
}

std::optional<UpstreamConnection> ConnectionPool::take(Entry& e, std::chrono::milliseconds maxIdle,
                                                       std::string_view identity) {
  auto now = SteadyClock::now();
  while (!e.idle.empty()) {
    auto idle = std::move(e.idle.back());
    e.idle.pop_back();
    if (now - idle.since > maxIdle || idle.connection.peerIdentity != identity) {
      continue;
    }
    if (now - idle.since < kPeekAfterIdle) {
      return std::move(idle.connection);
    }
    // A peer that closed (or sent stray bytes) while idle makes it unusable.
    char c;
    ssize_t n =
        ::recv(idle.connection.stream.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return std::move(idle.connection);
    }
  }
  return std::nullopt;
}

void ConnectionPool::put(Entry& e, UpstreamConnection c, std::size_t maxPerEndpoint) {
  if (e.idle.size() >= maxPerEndpoint) {
    return;
  }
  e.idle.push_back(Entry::Idle{std::move(c), SteadyClock::now()});
}

void ConnectionPool::closeAll() {
  for (auto& [_, e] : byEndpoint_) {
    e.idle.clear();
  }
}

void ConnectionPool::evict() {
  if (byEndpoint_.size() <= kMaxEntries) {
    return;
  }
  for (auto it = byEndpoint_.begin(); it != byEndpoint_.end();) {
    if (it->second.inUse == 0 && it->second.idle.empty()) {
      it = byEndpoint_.erase(it);
    } else {
      ++it;
    }
  }
}

// Destinations

Destinations::Destinations(unsigned workers, const Clock& clock, resilience::Random& random)
    : workers_(workers == 0 ? 1 : workers), clock_(&clock), random_(&random) {}

std::int64_t Destinations::share(std::int64_t limit) const {
  return std::max<std::int64_t>(1, limit / static_cast<std::int64_t>(workers_));
}

std::shared_ptr<Destination> Destinations::get(const config::Snapshot& table,
                                               const api::Outbound& outbound) {
  auto it = outbound_.find(outbound.authority);
  if (it != outbound_.end()) {
    return it->second;
  }
  auto d = std::make_shared<Destination>(outbound.authority);
  apply(*d, outbound, table.compiled(outbound));
  outbound_.emplace(outbound.authority, d);
  return d;
}

std::shared_ptr<Destination> Destinations::direct(const std::string& name) {
  auto& d = direct_[name];
  if (!d) {
    d = std::make_shared<Destination>(name);
    config::CompiledOutbound defaults;
    resilience::LimitSettings limits;
    limits.maxConnections = share(defaults.limits.maxConnections);
    limits.maxPendingRequests = share(defaults.limits.maxPendingRequests);
    limits.maxRequests = share(defaults.limits.maxRequests);
    d->limits.setSettings(limits);
    auto budget = defaults.retries.budget;
    budget.minPerSecond /= workers_;
    d->budget = std::make_unique<resilience::RetryBudget>(budget, *clock_);
  }
  return d;
}

void Destinations::sync(const config::Snapshot& table) {
  for (auto it = outbound_.begin(); it != outbound_.end();) {
    const api::Outbound* o = table.findOutbound(it->first);
    if (o == nullptr || o->authority != it->first) {
      it = outbound_.erase(it);  // requests in flight keep their shared_ptr
      continue;
    }
    apply(*it->second, *o, table.compiled(*o));
    ++it;
  }
}

void Destinations::apply(Destination& d, const api::Outbound& outbound,
                         const config::CompiledOutbound& c) {
  resilience::LimitSettings limits;
  limits.maxConnections = share(c.limits.maxConnections);
  limits.maxPendingRequests = share(c.limits.maxPendingRequests);
  limits.maxRequests = share(c.limits.maxRequests);
  d.limits.setSettings(limits);

  auto budget = c.retries.budget;
  budget.minPerSecond /= workers_;  // the floor is per destination, not per worker
  if (!d.budget || !sameBudget(d.budget->settings(), budget)) {
    d.budget = std::make_unique<resilience::RetryBudget>(budget, *clock_);
  }

  std::unordered_set<std::string_view> named;
  for (const auto& [name, backend] : outbound.backends) {
    named.insert(name);
    auto it = d.backends.find(name);
    if (it == d.backends.end() || it->second.algorithm != c.balancer.algorithm) {
      if (it != d.backends.end()) {
        d.backends.erase(it);
      }
      it = d.backends
               .emplace(name, BackendState(lb::makeLoadBalancer(c.balancer, *clock_, *random_),
                                           c.balancer.algorithm, *clock_))
               .first;
    } else {
      it->second.balancer->setSettings(c.balancer);
    }
    auto endpoints = route::endpointsFrom(backend);
    it->second.balancer->update(endpoints);
    it->second.identities.clear();
    for (const auto& ep : backend.endpoints) {
      if (!ep.identity.empty()) {
        it->second.identities.emplace(ep.address, ep.identity);
      }
    }
    it->second.readiness.update(it->second.balancer->readyCount());
  }
  std::erase_if(d.backends, [&](const auto& kv) { return named.count(kv.first) == 0; });
}

}  // namespace weft::proxy::net
