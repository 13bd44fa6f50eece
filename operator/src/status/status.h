// Status conditions and Events: merging desired conditions into what an
// object carries (lastTransitionTime moves only when status flips), and the
// StatusWriter that stores them (the API server, or memory in local mode).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/json/json.h"
#include "operator/src/render/resolve.h"

namespace weft::op::status {

using render::Kind;

// `existing` is a conditions array as stored (may be null). Returns the new
// array: one entry per desired condition with observedGeneration, and
// lastTransitionTime kept from `existing` when the status did not change.
json::Json mergeConditions(const json::Json& existing,
                           const std::vector<render::Condition>& desired, std::int64_t generation,
                           const std::string& now);

struct Event {
  Kind kind = Kind::kMesh;
  std::string key;   // "namespace/name" of the object it is about
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
};

// Where status and Events go. Called on the reconciler's thread, only when
// something changed.
class StatusWriter {
 public:
  virtual ~StatusWriter() = default;
  // `status` is the whole status object ({"conditions": [...]}).
  virtual void writeStatus(Kind kind, const std::string& key, const json::Json& status) = 0;
  // The object is gone: drop what is kept about it.
  virtual void forget(Kind kind, const std::string& key) = 0;
  virtual void recordEvent(const Event& event) = 0;
};

// Local mode: status and the latest Events in memory, shown on GET /status.
// Thread-safe.
class MemoryStatus final : public StatusWriter {
 public:
  explicit MemoryStatus(std::size_t maxEvents = 200) : maxEvents_(maxEvents) {}

  // StatusWriter
  void writeStatus(Kind kind, const std::string& key, const json::Json& status) override;
  void forget(Kind kind, const std::string& key) override;
  void recordEvent(const Event& event) override;

  // {"resources": [{kind, namespace, name, status}], "events": [...]}
  json::Json snapshot() const;
  std::uint64_t writes() const;
  std::uint64_t events() const;

 private:
  mutable std::mutex mu_;
  std::size_t maxEvents_;
  std::map<std::pair<int, std::string>, json::Json> status_;
  std::deque<json::Json> events_;
  std::uint64_t writes_ = 0;
  std::uint64_t eventCount_ = 0;
};

}  // namespace weft::op::status
