// SharedCache: maps under a shared_mutex; handlers run outside it.
#include "operator/src/cache/shared_cache.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "operator/src/queue/work_queue.h"

namespace weft::op::cache {
namespace {

std::string rvOf(const ObjectPtr& object) {
  if (!object) {
    return "";
  }
  auto meta = object->find("metadata");
  if (meta == object->end() || !meta->is_object()) {
    return "";
  }
  auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

}  // namespace

void SharedCache::addHandler(Handler handler) {
  std::unique_lock lock(mu_);
  handlers_.push_back(std::move(handler));
}

ObjectPtr SharedCache::get(Kind kind, const std::string& key) const {
  std::shared_lock lock(mu_);
  auto store = stores_.find(kind);
  if (store == stores_.end()) {
    return nullptr;
  }
  auto it = store->second.find(key);
  return it == store->second.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> SharedCache::list(Kind kind, const std::string& ns) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto store = stores_.find(kind);
  if (store == stores_.end()) {
    return out;
  }
  if (ns.empty()) {
    for (const auto& [key, object] : store->second) {
      out.push_back(object);
    }
    return out;
  }
  // Keys sort by namespace first: walk the range "ns/" .. "ns0".
  std::string prefix = ns + "/";
  for (auto it = store->second.lower_bound(prefix);
       it != store->second.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> SharedCache::keys(Kind kind) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  if (auto store = stores_.find(kind); store != stores_.end()) {
    for (const auto& [key, object] : store->second) {
      out.push_back(key);
    }
  }
  return out;
}

std::size_t SharedCache::size(Kind kind) const {
  std::shared_lock lock(mu_);
  auto store = stores_.find(kind);
  return store == stores_.end() ? 0 : store->second.size();
}

bool SharedCache::hasSynced() const {
  std::lock_guard lock(syncMu_);
  return synced_;
}

bool SharedCache::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(syncMu_);
  return syncCv_.wait_for(lock, timeout, [&] { return synced_; });
}

void SharedCache::notify(const std::vector<CacheEvent>& events) {
  std::vector<Handler> handlers;
  {
    std::shared_lock lock(mu_);
    handlers = handlers_;
  }
  for (const auto& event : events) {
    for (const auto& handler : handlers) {
      handler(event);
    }
  }
}

void SharedCache::upsert(Kind kind, ObjectPtr object) {
  if (!object) {
    return;
  }
  std::string key = source::keyOf(*object);
  CacheEvent event{kind, CacheEvent::Type::kAdded, key, nullptr, object};
  {
    std::unique_lock lock(mu_);
    auto& slot = stores_[kind][key];
    if (slot) {
      event.type = CacheEvent::Type::kUpdated;
      event.oldObject = slot;
    }
    slot = object;
  }
  notify({event});
}

void SharedCache::remove(Kind kind, const std::string& key) {
  CacheEvent event{kind, CacheEvent::Type::kDeleted, key, nullptr, nullptr};
  {
    std::unique_lock lock(mu_);
    auto& store = stores_[kind];
    auto it = store.find(key);
    if (it == store.end()) {
      return;
    }
    event.oldObject = it->second;
    store.erase(it);
  }
  notify({event});
}

void SharedCache::replace(Kind kind, std::vector<ObjectPtr> objects) {
  std::map<std::string, ObjectPtr> next;
  for (auto& object : objects) {
    if (object) {
      std::string key = source::keyOf(*object);
      next[key] = std::move(object);
    }
  }
  std::vector<CacheEvent> events;
  {
    std::unique_lock lock(mu_);
    auto& store = stores_[kind];
    for (const auto& [key, old] : store) {
      auto it = next.find(key);
      if (it == next.end()) {
        events.push_back({kind, CacheEvent::Type::kDeleted, key, old, nullptr});
      } else {
        events.push_back({kind, CacheEvent::Type::kUpdated, key, old, it->second});
      }
    }
    for (const auto& [key, object] : next) {
      if (!store.count(key)) {
        events.push_back({kind, CacheEvent::Type::kAdded, key, nullptr, object});
      }
    }
    store = std::move(next);  // swapped whole
  }
  notify(events);
}

void SharedCache::synced() {
  {
    std::lock_guard lock(syncMu_);
    synced_ = true;
  }
  syncCv_.notify_all();
}

SharedCache::Handler enqueueKeys(queue::WorkQueue& queue, std::vector<Kind> kinds) {
  return [&queue, kinds = std::move(kinds)](const CacheEvent& event) {
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), event.kind) == kinds.end()) {
      return;
    }
    if (event.type == CacheEvent::Type::kUpdated && event.oldObject && event.newObject &&
        rvOf(event.oldObject) == rvOf(event.newObject) && !rvOf(event.newObject).empty()) {
      return;
    }
    queue.add(event.key);
  };
}

}  // namespace weft::op::cache
