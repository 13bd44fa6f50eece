#include "operator/src/render/pod_lifecycle.h"

#include <string>

namespace weft::op::render {
namespace {

using json::Json;

constexpr const char* kProxyContainer = "weft-proxy";
constexpr const char* kProxyExitAnnotation = "weft.io/proxy-exit";

const Json& member(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) {
    return kNull;
  }
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

bool isString(const Json& v, const char* expected) { return v.is_string() && v == expected; }

bool runsToCompletion(const Json& pod) {
  const Json& meta = member(pod, "metadata");
  if (isString(member(member(meta, "annotations"), kProxyExitAnnotation), "apps-done")) {
    return true;
  }
  const Json& owners = member(meta, "ownerReferences");
  if (owners.is_array()) {
    for (const Json& o : owners) {
      if (isString(member(o, "kind"), "Job") && member(o, "apiVersion").is_string() &&
          member(o, "apiVersion").get<std::string>().starts_with("batch/")) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

bool appContainersTerminated(const Json& pod) {
  if (!runsToCompletion(pod)) {
    return false;
  }
  const Json& spec = member(pod, "spec");
  const Json& containers = member(spec, "containers");
  const Json& statuses = member(member(pod, "status"), "containerStatuses");
  if (!containers.is_array() || !statuses.is_array()) {
    return false;
  }
  const bool onFailure = isString(member(spec, "restartPolicy"), "OnFailure");
  bool proxy = false;
  int apps = 0;
  for (const Json& c : containers) {
    const Json& name = member(c, "name");
    if (isString(name, kProxyContainer)) {
      proxy = true;
      continue;
    }
    ++apps;
    const Json* terminated = nullptr;
    for (const Json& s : statuses) {
      if (member(s, "name") == name) {
        const Json& t = member(member(s, "state"), "terminated");
        terminated = t.is_object() ? &t : nullptr;
        break;
      }
    }
    if (terminated == nullptr) {
      return false;
    }
    const Json& code = member(*terminated, "exitCode");
    if (onFailure && !(code.is_number_integer() && code.get<std::int64_t>() == 0)) {
      return false;
    }
  }
  return proxy && apps > 0;
}

}  // namespace weft::op::render
