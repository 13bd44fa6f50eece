// Whether a Pod should carry the proxy and whether it does: the injector's
// opt-in rule (DESIGN.md, "Opt-in and injection") seen from the operator, so
// that a pod created while the injector was down is not silently unmeshed.
// Pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"

namespace weft::op::render {

enum class Meshing {
  kOutOfScope,  // not opted in, opted out, or never injected (system namespace, hostNetwork, ...)
  kMeshed,      // opted in and runs the weft-proxy container
  kUnmeshed,    // opted in but runs without the proxy: restart the workload
};

// Namespaces never injected besides kube-system, kube-public and kube-node-lease.
struct MeshingScope {
  std::string operatorNamespace = "weft-system";  // Weft's own
  std::vector<std::string> excludedNamespaces;    // the injector's WEFT_EXCLUDED_NAMESPACES
};

// `ns` is the Pod's Namespace object (null when not known yet).
Meshing meshingOf(const json::Json& pod, const json::Json* ns, const MeshingScope& scope);

}  // namespace weft::op::render
