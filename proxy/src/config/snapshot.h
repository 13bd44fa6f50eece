// Snapshot: the proxy's whole configuration at one instant, immutable and indexed for the
// request path (Outbound by any of its authorities, the pod's Inbound).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/api/documents.h"
#include "common/result.h"
#include "proxy/src/authz/authorizer.h"
#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/resilience/limits.h"
#include "proxy/src/resilience/retry.h"
#include "proxy/src/route/route_table.h"

namespace weft::proxy::config {

// An Outbound's policy and routes compiled once per snapshot (regexes, merged
// retries, validated settings), so no worker does it per request.
struct CompiledOutbound {
  route::RouteTable routes;
  lb::BalancerSettings balancer;
  resilience::RetrySettings retries;
  resilience::LimitSettings limits;
};

// Built once, then shared read-only as std::shared_ptr<const Snapshot> by every worker: all
// const methods are safe from any thread without locks, and a request keeps the snapshot it
// started with alive. Pointers returned by lookups live as long as the snapshot.
class Snapshot {
 public:
  // Indexes the documents and compiles each Outbound's routes and policy. Fails
  // (kInvalidArgument) when two Outbounds share an authority, an alias names two different
  // Outbounds, or a route or policy is invalid (the error names the field). `version` identifies
  // the whole set ("file:3f2a..." for files, a counter for discovery).
  static Result<std::shared_ptr<const Snapshot>> build(std::vector<api::Outbound> outbounds,
                                                       std::optional<api::Inbound> inbound,
                                                       std::string version);

  // The empty configuration (no destinations known: everything goes to the original
  // destination).
  static std::shared_ptr<const Snapshot> empty();

  // The Outbound that `authority` names: its authority, any alias (including ClusterIP:port),
  // host compared case-insensitively, a trailing dot ignored, IPv6 in brackets in any spelling.
  // An authority without a port (a Host header for the default port) uses `defaultPort`.
  // nullptr when unknown or malformed. Does not allocate for the usual host:port form.
  const api::Outbound* findOutbound(std::string_view authority,
                                    std::uint16_t defaultPort = 80) const;

  // The pod's Inbound, nullptr when none was given.
  const api::Inbound* inbound() const { return inbound_ ? &*inbound_ : nullptr; }
  // The Inbound's authorization rules, compiled (none: allow everyone).
  const authz::Authorizer& authorizer() const { return authorizer_; }
  // The inbound port's settings, nullptr when the port is not declared (opaque TCP then).
  const api::InboundPort* findInboundPort(std::uint16_t port) const;

  // The compiled form of `outbound`, which must come from this snapshot.
  const CompiledOutbound& compiled(const api::Outbound& outbound) const {
    return compiled_[static_cast<std::size_t>(&outbound - outbounds_.data())];
  }

  const std::vector<api::Outbound>& outbounds() const { return outbounds_; }
  const std::string& version() const { return version_; }
  std::chrono::system_clock::time_point builtAt() const { return builtAt_; }

  // Every document as JSON plus version and build time, for the admin `/config` page.
  std::string toJson(int indent = 2) const;

 private:
  // Keys are stored lower-cased; lookups lower-case into a stack buffer and find by view.
  struct ViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Snapshot() = default;
  const api::Outbound* lookup(std::string_view key) const;

  std::vector<api::Outbound> outbounds_;
  std::vector<CompiledOutbound> compiled_;
  std::optional<api::Inbound> inbound_;
  authz::Authorizer authorizer_;
  std::unordered_map<std::string, std::size_t, ViewHash, std::equal_to<>> index_;
  std::string version_;
  std::chrono::system_clock::time_point builtAt_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace weft::proxy::config
