// Whether a Pod should carry the proxy and whether it does: the injector's
// opt-in rule (DESIGN.md, "Opt-in and injection") seen from the operator, so
// that a pod created while the injector was down is not silently unmeshed.
// Pure functions.
#pragma once

#include <string>

#include "common/json/json.h"

namespace weft::op::render {

enum class Meshing {
  kOutOfScope,  // not opted in, opted out, or never injected (system namespace, hostNetwork, ...)
  kMeshed,      // opted in and runs the weft-proxy container
  kUnmeshed,    // opted in but runs without the proxy: restart the workload
};

// `ns` is the Pod's Namespace object (null when not known yet);
// `operatorNamespace` is Weft's own namespace, which is never injected.
Meshing meshingOf(const json::Json& pod, const json::Json* ns,
                  const std::string& operatorNamespace);

}  // namespace weft::op::render
