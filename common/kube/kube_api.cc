// Helpers over any KubeApi: paging, read-modify-write with retry, Events.
#include "common/kube/kube_api.h"

#include <chrono>
#include <ctime>

namespace weft::kube {
namespace {

std::string nowRfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string metaString(const Json& object, const char* field) {
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    const auto& meta = object["metadata"];
    if (meta.contains(field) && meta[field].is_string()) {
      return meta[field].get<std::string>();
    }
  }
  return "";
}

}  // namespace

std::string resourceVersionOf(const Json& object) { return metaString(object, "resourceVersion"); }

Result<ObjectList> listAll(KubeApi& api, const Resource& resource, std::string_view ns,
                           ListOptions options, int maxRestarts) {
  const ListOptions first = [&] {
    ListOptions o = options;
    o.continueToken.clear();
    return o;
  }();
  for (int restart = 0;; ++restart) {
    ObjectList all;
    ListOptions page = first;
    page.continueToken = options.continueToken;
    bool expired = false;
    // Bounded: each page moves the continue token forward; a server that
    // loops is cut off after a generous number of pages.
    for (int pages = 0; pages < 1000000; ++pages) {
      auto result = api.list(resource, ns, page);
      if (!result.ok()) {
        if (isExpired(result.error()) && restart < maxRestarts) {
          expired = true;
          break;
        }
        return result.error();
      }
      if (all.resourceVersion.empty()) {
        all.resourceVersion = result->resourceVersion;
      }
      for (auto& item : result->items) {
        all.items.push_back(std::move(item));
      }
      if (result->continueToken.empty()) {
        return all;
      }
      page.continueToken = result->continueToken;
    }
    if (!expired) {
      return makeError(ErrorCode::kInternal, "list did not end after 1000000 pages");
    }
    options.continueToken.clear();
  }
}

Result<Json> updateWithRetry(KubeApi& api, const Resource& resource, std::string_view ns,
                             std::string_view name, const std::function<bool(Json&)>& mutate,
                             std::string_view subresource, int attempts) {
  Error last = makeError(ErrorCode::kConflict, "no attempt made");
  for (int i = 0; i < std::max(1, attempts); ++i) {
    auto current = api.get(resource, ns, name);
    if (!current.ok()) {
      return current.error();
    }
    Json desired = *current;
    if (!mutate(desired)) {
      return current;
    }
    auto written = api.update(resource, desired, subresource);
    if (written.ok() || !isConflict(written.error())) {
      return written;
    }
    last = written.error();
  }
  return last;
}

Result<Json> createEvent(KubeApi& api, const Json& involved, const EventInfo& event) {
  std::string ns = metaString(involved, "namespace");
  if (ns.empty()) {
    ns = "default";  // Events about cluster-scoped objects live in "default"
  }
  std::string name = metaString(involved, "name");
  if (name.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "event: involved object has no name");
  }
  std::string now = nowRfc3339();
  auto field = [&](const char* key) {
    return involved.contains(key) && involved[key].is_string() ? involved[key].get<std::string>()
                                                               : std::string();
  };
  Json ref = {{"apiVersion", field("apiVersion")}, {"kind", field("kind")}, {"name", name}};
  if (!metaString(involved, "namespace").empty()) {
    ref["namespace"] = ns;
  }
  if (!metaString(involved, "uid").empty()) {
    ref["uid"] = metaString(involved, "uid");
  }
  if (!resourceVersionOf(involved).empty()) {
    ref["resourceVersion"] = resourceVersionOf(involved);
  }
  Json body = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"generateName", name + "."}, {"namespace", ns}}},
               {"involvedObject", ref},
               {"type", event.type},
               {"reason", event.reason},
               {"message", event.message},
               {"source", {{"component", event.component}}},
               {"reportingComponent", event.component},
               {"firstTimestamp", now},
               {"lastTimestamp", now},
               {"count", 1}};
  return api.create(resources::events(), ns, body);
}

}  // namespace weft::kube
