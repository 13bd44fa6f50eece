// Locating pod templates in workload objects for offline injection.
#include "webhook/src/inject/workload.h"

namespace weft::webhook::inject {
namespace {

using json::Json;

constexpr int kMaxListDepth = 8;

std::string describe(const Json& object) {
  std::string kind = object.contains("kind") && object["kind"].is_string()
                         ? object["kind"].get<std::string>()
                         : "object";
  std::string name;
  if (object.contains("metadata") && object["metadata"].is_object()) {
    const Json& m = object["metadata"];
    if (m.contains("namespace") && m["namespace"].is_string()) {
      name = m["namespace"].get<std::string>() + "/";
    }
    if (m.contains("name") && m["name"].is_string()) {
      name += m["name"].get<std::string>();
    }
  }
  return name.empty() ? kind : kind + " " + name;
}

// Where the pod template sits for each kind; empty for kinds we leave alone.
std::string templatePointer(const std::string& kind) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job" ||
      kind == "ReplicaSet" || kind == "ReplicationController") {
    return "/spec/template";
  }
  if (kind == "CronJob") {
    return "/spec/jobTemplate/spec/template";
  }
  return "";
}

Result<void> injectAt(Json& object, const Options& options, WorkloadReport& report, int depth) {
  if (!object.is_object() || !object.contains("kind") || !object["kind"].is_string()) {
    return okResult();
  }
  const std::string kind = object["kind"].get<std::string>();
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List"))) {
    if (depth >= kMaxListDepth || !object.contains("items") || !object["items"].is_array()) {
      return okResult();
    }
    Json items = object["items"];
    for (auto& item : items) {
      if (auto r = injectAt(item, options, report, depth + 1); !r) {
        return r;
      }
    }
    object["items"] = std::move(items);
    return okResult();
  }
  std::string namespaceName = "default";
  if (object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("namespace") && object["metadata"]["namespace"].is_string()) {
    namespaceName = object["metadata"]["namespace"].get<std::string>();
  }
  PodContext context{namespaceName, {}, true};
  Json::json_pointer where;
  if (kind != "Pod") {
    std::string pointer = templatePointer(kind);
    if (pointer.empty()) {
      return okResult();
    }
    where = Json::json_pointer(pointer);
    if (!object.contains(where) || !object[where].is_object()) {
      return makeError(ErrorCode::kInvalidArgument,
                       describe(object) + ": " + pointer + " is missing");
    }
  }
  auto decision = injectPod(object[where], context, options);
  if (!decision) {
    return decision.error().context(describe(object));
  }
  for (const auto& w : decision->warnings) {
    report.messages.push_back(describe(object) + ": " + w);
  }
  if (decision->outcome == Outcome::kInjected) {
    ++report.injected;
    object[where] = std::move(decision->pod);
  } else {
    ++report.skipped;
    report.messages.push_back(describe(object) + ": not injected (" + decision->reason + ")");
  }
  return okResult();
}

}  // namespace

Result<void> injectObject(Json& object, const Options& options, WorkloadReport& report) {
  Json copy = object;
  WorkloadReport local;
  auto r = injectAt(copy, options, local, 0);
  if (!r) {
    return r;
  }
  object = std::move(copy);
  report.injected += local.injected;
  report.skipped += local.skipped;
  report.messages.insert(report.messages.end(), local.messages.begin(), local.messages.end());
  return okResult();
}

}  // namespace weft::webhook::inject
