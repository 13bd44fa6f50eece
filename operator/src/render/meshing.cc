// meshingOf: the opt-in rule, then the containers the Pod actually runs.
#include "operator/src/render/meshing.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace weft::op::render {

using json::Json;

namespace {

// JSON pointers to the weft.io/inject annotation and label ("/" escaped as "~1").
constexpr std::string_view kInjectAnnotation = "/metadata/annotations/weft.io~1inject";
constexpr std::string_view kInjectLabel = "/metadata/labels/weft.io~1inject";
constexpr std::string_view kProxyContainer = "weft-proxy";
// Never injected next to another mesh's sidecar (the injector's rule).
constexpr std::array<std::string_view, 4> kOtherMeshContainers{"istio-proxy", "istio-init",
                                                               "linkerd-proxy", "linkerd-init"};
constexpr std::array<std::string_view, 3> kSystemNamespaces{"kube-system", "kube-public",
                                                            "kube-node-lease"};

// A string member, or "" when absent or not a string (objects come from the API: never assert).
std::string stringAt(const Json& obj, std::string_view pointer) {
  return json::getStringOr(obj, pointer, "").valueOr("");
}

// Whether any container or init container of the Pod is called one of `names`.
template <typename Names>
bool runsContainer(const Json& pod, const Names& names) {
  for (const char* list : {"/spec/containers", "/spec/initContainers"}) {
    auto containers = json::getArray(pod, list);
    if (!containers) {
      continue;
    }
    for (const Json& c : *containers) {
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) {
        continue;
      }
      const auto& name = c["name"].get_ref<const std::string&>();
      for (std::string_view n : names) {
        if (name == n) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

Meshing meshingOf(const Json& pod, const Json* ns, const MeshingScope& scope) {
  std::string podNs = stringAt(pod, "/metadata/namespace");
  for (std::string_view system : kSystemNamespaces) {
    if (podNs == system) {
      return Meshing::kOutOfScope;
    }
  }
  if (podNs == scope.operatorNamespace ||
      std::find(scope.excludedNamespaces.begin(), scope.excludedNamespaces.end(), podNs) !=
          scope.excludedNamespaces.end()) {
    return Meshing::kOutOfScope;
  }
  if (json::getBoolOr(pod, "/spec/hostNetwork", false).valueOr(false)) {
    return Meshing::kOutOfScope;
  }
  std::string annotation = stringAt(pod, kInjectAnnotation);
  if (annotation == "disabled") {
    return Meshing::kOutOfScope;
  }
  std::string label = ns ? stringAt(*ns, kInjectLabel) : std::string();
  if (annotation != "enabled" && label != "enabled") {
    return Meshing::kOutOfScope;
  }
  if (runsContainer(pod, std::array<std::string_view, 1>{kProxyContainer})) {
    return Meshing::kMeshed;
  }
  // Finished or terminating pods need no restart; another mesh's pods are never injected.
  std::string phase = stringAt(pod, "/status/phase");
  if (phase == "Succeeded" || phase == "Failed" ||
      !stringAt(pod, "/metadata/deletionTimestamp").empty() ||
      runsContainer(pod, kOtherMeshContainers)) {
    return Meshing::kOutOfScope;
  }
  return Meshing::kUnmeshed;
}

}  // namespace weft::op::render
