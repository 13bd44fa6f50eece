// When a run-to-completion pod's proxy should leave: the proxy runs as a
// plain container (no native sidecars before Kubernetes 1.29), so the pod
// would never complete while it runs. Pure.
#pragma once

#include "common/json/json.h"

namespace weft::op::render {

// True when the Pod (as the API server returns it) is owned by a Job or
// carries weft.io/proxy-exit: apps-done, has weft-proxy among
// spec.containers, and every other container of spec.containers has
// status.containerStatuses[].state.terminated (with exit code 0 under
// restartPolicy OnFailure, where the kubelet restarts a failed one).
bool appContainersTerminated(const json::Json& pod);

}  // namespace weft::op::render
