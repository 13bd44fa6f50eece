// DiscoveryState: stream lines in, snapshots out.
#include "proxy/src/discovery/state.h"

#include <set>

#include "common/api/json.h"

namespace weft::proxy::discovery {

bool DiscoveryState::addOutbound(const std::string& authority) {
  return outbounds_.emplace(authority, std::nullopt).second;
}

bool DiscoveryState::removeOutbound(const std::string& authority) {
  auto it = outbounds_.find(authority);
  if (it == outbounds_.end()) {
    return false;
  }
  const bool had = it->second.has_value();
  outbounds_.erase(it);
  return had;
}

Result<bool> DiscoveryState::applyLine(const std::string& authority, std::string_view line) {
  auto parsed = json::parse(line);
  if (!parsed) {
    return parsed.error();
  }
  // A newer operator may add fields; an older proxy must still take the document.
  auto doc = api::documentFromJson(*parsed, api::ParseOptions{.rejectUnknownFields = false});
  if (!doc) {
    return doc.error();
  }
  if (authority.empty()) {
    auto* in = std::get_if<api::Inbound>(&*doc);
    if (in == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, "inbound stream sent an Outbound document");
    }
    if (inbound_ == *in) {
      return false;
    }
    inbound_ = std::move(*in);
    return true;
  }
  auto* out = std::get_if<api::Outbound>(&*doc);
  if (out == nullptr) {
    return makeError(ErrorCode::kInvalidArgument,
                     "outbound stream " + authority + " sent an Inbound document");
  }
  auto it = outbounds_.find(authority);
  if (it == outbounds_.end()) {
    return makeError(ErrorCode::kInternal, "no subscription for " + authority);
  }
  if (it->second == *out) {
    return false;
  }
  it->second = std::move(*out);
  return true;
}

config::SnapshotPtr DiscoveryState::build() {
  std::map<std::string, const api::Outbound*> byAuthority;
  for (const auto& [subscribed, doc] : outbounds_) {
    if (doc) {
      byAuthority.emplace(doc->authority, &*doc);
    }
  }
  std::vector<api::Outbound> outbounds;
  std::set<std::string> claimed;
  for (const auto& [authority, doc] : byAuthority) {
    claimed.insert(authority);
  }
  for (const auto& [authority, doc] : byAuthority) {
    api::Outbound copy = *doc;
    std::vector<std::string> aliases;
    for (auto& alias : copy.aliases) {
      if (alias == authority || claimed.insert(alias).second) {
        aliases.push_back(std::move(alias));
      }
    }
    copy.aliases = std::move(aliases);
    outbounds.push_back(std::move(copy));
  }
  auto snapshot = config::Snapshot::build(std::move(outbounds), inbound_,
                                          "discovery:" + std::to_string(++generation_));
  // Cannot fail: names are deduplicated above and documents were validated on the way in.
  return snapshot ? *snapshot : config::Snapshot::empty();
}

}  // namespace weft::proxy::discovery
