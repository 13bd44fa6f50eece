// Condition merging and the in-memory status store.
#include "operator/src/status/status.h"

#include <chrono>

#include "operator/src/status/clock.h"

namespace weft::op::status {

using json::Json;

Json mergeConditions(const Json& existing, const std::vector<render::Condition>& desired,
                     std::int64_t generation, const std::string& now) {
  Json out = Json::array();
  for (const auto& c : desired) {
    std::string since = now;
    if (existing.is_array()) {
      for (const Json& e : existing) {
        if (e.is_object() && e.value("type", "") == c.type && e.value("status", "") == c.status &&
            e.contains("lastTransitionTime") && e["lastTransitionTime"].is_string()) {
          since = e["lastTransitionTime"].get<std::string>();
        }
      }
    }
    out.push_back(Json{{"type", c.type},
                       {"status", c.status},
                       {"reason", c.reason},
                       {"message", c.message},
                       {"observedGeneration", generation},
                       {"lastTransitionTime", since}});
  }
  return out;
}

void MemoryStatus::writeStatus(Kind kind, const std::string& key, const Json& status) {
  std::lock_guard lock(mu_);
  status_[{static_cast<int>(kind), key}] = status;
  ++writes_;
}

void MemoryStatus::forget(Kind kind, const std::string& key) {
  std::lock_guard lock(mu_);
  status_.erase({static_cast<int>(kind), key});
}

void MemoryStatus::recordEvent(const Event& event) {
  std::string ns = event.key.substr(0, event.key.find('/'));
  std::string name = event.key.substr(event.key.find('/') + 1);
  Json e{{"type", event.type},
         {"reason", event.reason},
         {"message", event.message},
         {"involvedObject",
          {{"kind", source::kindName(event.kind)}, {"namespace", ns}, {"name", name}}},
         {"time", rfc3339(std::chrono::system_clock::now())}};
  std::lock_guard lock(mu_);
  events_.push_back(std::move(e));
  while (events_.size() > maxEvents_) {
    events_.pop_front();
  }
  ++eventCount_;
}

Json MemoryStatus::snapshot() const {
  std::lock_guard lock(mu_);
  Json resources = Json::array();
  for (const auto& [id, status] : status_) {
    const std::string& key = id.second;
    auto kind = static_cast<Kind>(id.first);
    resources.push_back({{"kind", source::kindName(kind)},
                         {"namespace", key.substr(0, key.find('/'))},
                         {"name", key.substr(key.find('/') + 1)},
                         {"status", status}});
  }
  Json events = Json::array();
  for (const Json& e : events_) {
    events.push_back(e);
  }
  return {{"resources", resources}, {"events", events}};
}

std::uint64_t MemoryStatus::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

std::uint64_t MemoryStatus::events() const {
  std::lock_guard lock(mu_);
  return eventCount_;
}

}  // namespace weft::op::status
