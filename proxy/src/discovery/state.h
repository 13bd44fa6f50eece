// DiscoveryState: the last good document of every subscription, turned into Snapshots. Pure
// (no I/O), so the stream client stays a thin transport.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/api/documents.h"
#include "common/result.h"
#include "proxy/src/config/snapshot.h"

namespace weft::proxy::discovery {

// Not thread-safe: owned by the discovery client's thread.
class DiscoveryState {
 public:
  // Registers an outbound subscription (authority as the proxy saw it). False when known.
  bool addOutbound(const std::string& authority);

  // Forgets a subscription; true when it had a document (the snapshot changes).
  bool removeOutbound(const std::string& authority);

  // Applies one stream line of the subscription `authority` (or of the inbound stream when
  // `authority` is empty). A line that does not parse, or names another kind, is refused and
  // the last good document stays. Returns true when the configuration changed.
  Result<bool> applyLine(const std::string& authority, std::string_view line);

  // A snapshot of every last good document. Outbounds are deduplicated by authority (two
  // subscriptions may name one service), and an alias already claimed by another Outbound is
  // dropped rather than failing the whole snapshot.
  config::SnapshotPtr build();

  std::size_t subscriptions() const { return outbounds_.size(); }

 private:
  std::map<std::string, std::optional<api::Outbound>> outbounds_;  // by subscribed authority
  std::optional<api::Inbound> inbound_;
  std::uint64_t generation_ = 0;
};

}  // namespace weft::proxy::discovery
