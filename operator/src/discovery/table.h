// DocumentTable: the current version of every discovery document, by
// authority (and its aliases) and by pod. Single-threaded: the reconciler
// publishes and the stream server reads on the same executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace weft::op::discovery {

// One document as sent: a complete JSON line with its version.
struct Document {
  std::string version;
  std::string line;  // JSON + "\n"
  std::chrono::steady_clock::time_point publishedAt;
};
using DocumentPtr = std::shared_ptr<const Document>;

enum class Stream { kOutbound, kInbound };

// Streams whose document is now at one version, and how many of them were sent it.
struct Delivery {
  std::size_t delivered = 0;
  std::size_t subscribed = 0;
};
// By document version (a stream on an alias counts for the document it resolves to).
using Deliveries = std::map<std::string, Delivery>;

// The version of a document: a hash of its content, so that it changes
// whenever the content does and stays the same across operator restarts.
std::string contentVersion(const nlohmann::json& doc);

class DocumentTable {
 public:
  // Told the keys whose answer may have changed (an authority or alias, or a pod).
  using Listener = std::function<void(Stream, const std::string& key)>;

  DocumentTable();
  ~DocumentTable();
  void setListener(Listener listener) { listener_ = std::move(listener); }

  // Publishes `doc` (without version) under `authority` and its aliases. An
  // alias claimed by several authorities goes to the lowest `order` (the
  // caller passes creationTimestamp and key: oldest wins). Returns false and
  // does nothing when the content is unchanged.
  bool publishOutbound(const std::string& authority, const std::vector<std::string>& aliases,
                       const std::string& order, nlohmann::json doc);
  void removeOutbound(const std::string& authority);
  bool publishInbound(const std::string& podKey, nlohmann::json doc);
  void removeInbound(const std::string& podKey);
  // What an unknown pod's stream carries (mTLS mode follows the Mesh).
  void setInboundFallback(std::function<nlohmann::json(const std::string&)> make) {
    inboundFallback_ = std::move(make);
  }

  // The document for a subscriber: by authority, then by alias; an empty
  // document (no endpoints) when unknown. Never null.
  DocumentPtr outbound(const std::string& authority) const;
  DocumentPtr inbound(const std::string& podKey) const;

  std::size_t outboundCount() const { return outbound_.size(); }
  std::size_t inboundCount() const { return inbound_.size(); }

 private:
  struct Entry {
    DocumentPtr doc;
    std::vector<std::string> aliases;
    std::string order;
  };
  void notify(Stream stream, const std::string& key) const;

  std::map<std::string, Entry> outbound_;
  std::map<std::string, std::map<std::string, std::string>>
      aliases_;  // alias -> order -> authority
  std::map<std::string, DocumentPtr> inbound_;
  std::function<nlohmann::json(const std::string&)> inboundFallback_;
  Listener listener_;
};

}  // namespace weft::op::discovery
