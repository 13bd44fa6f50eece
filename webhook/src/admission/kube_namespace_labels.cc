// Namespace labels kept in step with the API server by a reflector.
#include "webhook/src/admission/kube_namespace_labels.h"

#include "common/kube/reflector.h"
#include "common/kube/resource.h"
#include "common/log/log.h"

namespace weft::webhook::admission {
namespace {

std::map<std::string, std::string> labelsOf(const kube::Json& ns) {
  std::map<std::string, std::string> out;
  if (ns.contains("metadata") && ns["metadata"].is_object() && ns["metadata"].contains("labels") &&
      ns["metadata"]["labels"].is_object()) {
    for (const auto& [key, value] : ns["metadata"]["labels"].items()) {
      if (value.is_string()) {
        out[key] = value.get<std::string>();
      }
    }
  }
  return out;
}

std::string nameOf(const kube::Json& ns) {
  if (ns.contains("metadata") && ns["metadata"].is_object() && ns["metadata"].contains("name") &&
      ns["metadata"]["name"].is_string()) {
    return ns["metadata"]["name"].get<std::string>();
  }
  return "";
}

}  // namespace

KubeNamespaceLabels::KubeNamespaceLabels(kube::KubeApi& api) : api_(api) {
  thread_ = std::thread([this] {
    kube::ReflectorOptions options;
    options.resource = kube::resources::namespaces();
    kube::ReflectorHandler handler;
    handler.replace = [this](std::vector<kube::Json>&& items, const std::string&) {
      std::unordered_map<std::string, std::map<std::string, std::string>> fresh;
      for (const auto& ns : items) {
        fresh[nameOf(ns)] = labelsOf(ns);
      }
      std::lock_guard lock(mu_);
      byName_ = std::move(fresh);
      synced_ = true;
    };
    handler.event = [this](kube::WatchEvent&& event) {
      std::lock_guard lock(mu_);
      if (event.type == kube::WatchEventType::kDeleted) {
        byName_.erase(nameOf(event.object));
      } else {
        byName_[nameOf(event.object)] = labelsOf(event.object);
      }
    };
    handler.error = [](const Error& error) {
      log::get("injector")->warn("watching namespaces: {}", error.message);
    };
    kube::Reflector reflector(api_, options, handler);
    reflector.run(stop_);
  });
}

KubeNamespaceLabels::~KubeNamespaceLabels() {
  stop_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool KubeNamespaceLabels::synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

Result<std::map<std::string, std::string>> KubeNamespaceLabels::labels(
    const std::string& namespaceName) {
  {
    std::lock_guard lock(mu_);
    if (auto it = byName_.find(namespaceName); it != byName_.end()) {
      return it->second;
    }
  }
  auto ns = api_.get(kube::resources::namespaces(), "", namespaceName);
  if (!ns) {
    if (kube::isNotFound(ns.error())) {
      return std::map<std::string, std::string>{};
    }
    return ns.error();
  }
  return labelsOf(*ns);
}

}  // namespace weft::webhook::admission
