// KubeApi: the small interface the operator talks to Kubernetes through, so
// that it can run against the real API server (HttpKubeApi) or a fake.
// Objects are nlohmann::json as the API server sends them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/json.h"
#include "common/kube/kube_error.h"
#include "common/kube/resource.h"
#include "common/kube/stop_signal.h"
#include "common/result.h"

namespace weft::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::int64_t limit = 0;     // page size; 0 = everything in one answer
  std::string continueToken;  // from the previous page
  std::string resourceVersion;
};

// One page of a list.
struct ObjectList {
  std::vector<Json> items;
  std::string resourceVersion;  // the list's RV: where a watch starts
  std::string continueToken;    // empty on the last page
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  Json object;  // for a bookmark only apiVersion, kind and metadata.resourceVersion
};

struct WatchOptions {
  std::string resourceVersion;  // start after this RV ("" or "0": current state as ADDED first)
  std::string labelSelector;
  int timeoutSeconds = 300;  // the server ends the stream; cpprestsdk's idle timer never does
  bool allowBookmarks = true;
};

enum class PatchType { kMerge, kJson, kStrategicMerge };

class KubeApi {
 public:
  virtual ~KubeApi() = default;

  // All methods are blocking and thread-safe; call them from your own
  // threads, never from inside a watch callback of the same client.
  virtual Result<Json> get(const Resource& resource, std::string_view ns,
                           std::string_view name) = 0;
  // One page; see listAll() for every page.
  virtual Result<ObjectList> list(const Resource& resource, std::string_view ns,
                                  const ListOptions& options) = 0;
  // Streams events to `onEvent` (on the calling thread) until the server ends
  // the stream (ok), `stop` fires (ok), or an error: an HTTP error status, a
  // broken connection, or an ERROR event (410 Expired: relist; see isExpired).
  virtual Result<void> watch(const Resource& resource, std::string_view ns,
                             const WatchOptions& options,
                             const std::function<void(WatchEvent&&)>& onEvent,
                             StopSignal& stop) = 0;
  virtual Result<Json> create(const Resource& resource, std::string_view ns,
                              const Json& object) = 0;
  // PUT of the whole object (namespace and name from its metadata); a stale
  // metadata.resourceVersion is a kConflict. subresource "status" writes status only.
  virtual Result<Json> update(const Resource& resource, const Json& object,
                              std::string_view subresource = {}) = 0;
  virtual Result<Json> patch(const Resource& resource, std::string_view ns, std::string_view name,
                             PatchType type, const Json& patch,
                             std::string_view subresource = {}) = 0;
  virtual Result<void> remove(const Resource& resource, std::string_view ns,
                              std::string_view name) = 0;
};

// Every page of a list (following continue tokens). A 410 on a continue
// token (compaction between pages) restarts from the first page, at most
// `maxRestarts` times.
Result<ObjectList> listAll(KubeApi& api, const Resource& resource, std::string_view ns,
                           ListOptions options, int maxRestarts = 3);

// Read-modify-write: gets the object, applies `mutate` to a copy and PUTs it;
// on 409 Conflict re-reads and tries again (at most `attempts` times).
// `mutate` returns false to skip the write (nothing to change). subresource
// "status" writes through /status.
Result<Json> updateWithRetry(KubeApi& api, const Resource& resource, std::string_view ns,
                             std::string_view name, const std::function<bool(Json&)>& mutate,
                             std::string_view subresource = {}, int attempts = 5);

// A core/v1 Event about `involved` (an object with apiVersion, kind and metadata).
struct EventInfo {
  std::string type = "Normal";  // Normal | Warning
  std::string reason;           // CamelCase
  std::string message;
  std::string component = "weft-operator";
};
Result<Json> createEvent(KubeApi& api, const Json& involved, const EventInfo& event);

// RV of an object ("" when absent).
std::string resourceVersionOf(const Json& object);

}  // namespace weft::kube
