// SharedCache: the informers' store, one map per kind, fed by a Source (it
// is a Sink). Reads are thread-safe and hand out shared immutable objects;
// handlers hear of every change (after the store changed) and typically
// enqueue keys. A relist (replace) is diffed, so objects that vanished while
// no watch was open still produce a delete.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "operator/src/source/source.h"

namespace weft::op::queue {
class WorkQueue;
}

namespace weft::op::cache {

using source::Kind;
using source::ObjectPtr;

struct CacheEvent {
  enum class Type { kAdded, kUpdated, kDeleted };
  Kind kind;
  Type type;
  std::string key;      // "namespace/name" ("/name" when cluster-scoped)
  ObjectPtr oldObject;  // null when added
  ObjectPtr newObject;  // null when deleted
};

class SharedCache final : public source::Sink {
 public:
  using Handler = std::function<void(const CacheEvent&)>;

  // Handlers run on the source's threads, outside the cache's lock, in the
  // order of the changes of one kind. Add them before the source starts.
  void addHandler(Handler handler);

  ObjectPtr get(Kind kind, const std::string& key) const;
  // Every object of `kind` (in `ns` when given), in key order.
  std::vector<ObjectPtr> list(Kind kind, const std::string& ns = "") const;
  std::vector<std::string> keys(Kind kind) const;
  std::size_t size(Kind kind) const;

  // Every kind listed once (the sink's synced()).
  bool hasSynced() const;
  bool waitForSync(std::chrono::milliseconds timeout) const;

  // source::Sink
  void upsert(Kind kind, ObjectPtr object) override;
  void remove(Kind kind, const std::string& key) override;
  void replace(Kind kind, std::vector<ObjectPtr> objects) override;
  void synced() override;

 private:
  void notify(const std::vector<CacheEvent>& events);

  mutable std::shared_mutex mu_;
  std::map<Kind, std::map<std::string, ObjectPtr>> stores_;
  std::vector<Handler> handlers_;
  mutable std::mutex syncMu_;
  mutable std::condition_variable syncCv_;
  bool synced_ = false;
};

// A handler that adds each changed object's key to `queue` (for `kinds`, or
// all kinds when empty). An unchanged resourceVersion (a relist returning
// the same object) enqueues nothing: the queue's resync covers those.
SharedCache::Handler enqueueKeys(queue::WorkQueue& queue, std::vector<Kind> kinds = {});

}  // namespace weft::op::cache
