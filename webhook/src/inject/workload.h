// Injection into manifests: finds the pod template of workload kinds (Pod,
// Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet,
// ReplicationController, List) and injects it; other kinds pass through.
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"
#include "common/result.h"
#include "webhook/src/inject/inject.h"

namespace weft::webhook::inject {

struct WorkloadReport {
  int injected = 0;
  int skipped = 0;
  std::vector<std::string> messages;  // "Deployment demo/web: <warning or reason>"
};

// Injects every pod (template) in `object`, in place. An error names the object
// and leaves `object` unchanged.
Result<void> injectObject(json::Json& object, const Options& options, WorkloadReport& report);

}  // namespace weft::webhook::inject
