// DocumentTable: versioning, alias resolution and change notification.
#include "operator/src/discovery/table.h"

#include <cstdio>

#include "common/json/json.h"
#include "operator/src/render/documents.h"

namespace weft::op::discovery {

using json::Json;

namespace {

DocumentPtr finish(Json doc) {
  auto d = std::make_shared<Document>();
  d->version = contentVersion(doc);
  doc["version"] = d->version;
  d->line = json::dump(doc) + "\n";
  d->publishedAt = std::chrono::steady_clock::now();
  return d;
}

}  // namespace

std::string contentVersion(const Json& doc) {
  std::string text = json::dump(doc);
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

DocumentTable::DocumentTable() = default;
DocumentTable::~DocumentTable() = default;

void DocumentTable::notify(Stream stream, const std::string& key) const {
  if (listener_) {
    listener_(stream, key);
  }
}

bool DocumentTable::publishOutbound(const std::string& authority,
                                    const std::vector<std::string>& aliases,
                                    const std::string& order, Json doc) {
  std::string version = contentVersion(doc);
  auto it = outbound_.find(authority);
  if (it != outbound_.end() && it->second.doc->version == version &&
      it->second.aliases == aliases && it->second.order == order) {
    return false;
  }
  std::set<std::string> touched(aliases.begin(), aliases.end());
  if (it != outbound_.end()) {
    for (const auto& a : it->second.aliases) {
      touched.insert(a);
      auto claim = aliases_.find(a);
      if (claim != aliases_.end()) {
        claim->second.erase(it->second.order);
        if (claim->second.empty()) {
          aliases_.erase(claim);
        }
      }
    }
  }
  for (const auto& a : aliases) {
    aliases_[a][order] = authority;
  }
  Entry& e = outbound_[authority];
  e.doc = finish(std::move(doc));
  e.aliases = aliases;
  e.order = order;
  notify(Stream::kOutbound, authority);
  for (const auto& a : touched) {
    notify(Stream::kOutbound, a);
  }
  return true;
}

void DocumentTable::removeOutbound(const std::string& authority) {
  auto it = outbound_.find(authority);
  if (it == outbound_.end()) {
    return;
  }
  std::vector<std::string> aliases = it->second.aliases;
  std::string order = it->second.order;
  outbound_.erase(it);
  for (const auto& a : aliases) {
    auto claim = aliases_.find(a);
    if (claim != aliases_.end()) {
      claim->second.erase(order);
      if (claim->second.empty()) {
        aliases_.erase(claim);
      }
    }
  }
  notify(Stream::kOutbound, authority);
  for (const auto& a : aliases) {
    notify(Stream::kOutbound, a);
  }
}

bool DocumentTable::publishInbound(const std::string& podKey, Json doc) {
  std::string version = contentVersion(doc);
  auto it = inbound_.find(podKey);
  if (it != inbound_.end() && it->second->version == version) {
    return false;
  }
  inbound_[podKey] = finish(std::move(doc));
  notify(Stream::kInbound, podKey);
  return true;
}

void DocumentTable::removeInbound(const std::string& podKey) {
  if (inbound_.erase(podKey) > 0) {
    notify(Stream::kInbound, podKey);
  }
}

DocumentPtr DocumentTable::outbound(const std::string& authority) const {
  if (auto it = outbound_.find(authority); it != outbound_.end()) {
    return it->second.doc;
  }
  if (auto a = aliases_.find(authority); a != aliases_.end() && !a->second.empty()) {
    if (auto it = outbound_.find(a->second.begin()->second); it != outbound_.end()) {
      return it->second.doc;
    }
  }
  return finish(render::emptyOutbound(authority));
}

DocumentPtr DocumentTable::inbound(const std::string& podKey) const {
  if (auto it = inbound_.find(podKey); it != inbound_.end()) {
    return it->second;
  }
  if (inboundFallback_) {
    return finish(inboundFallback_(podKey));
  }
  render::MeshView mesh;
  return finish(render::emptyInbound(podKey, mesh));
}

}  // namespace weft::op::discovery
