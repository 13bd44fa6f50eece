// Where weftctl finds the cluster, like kubectl: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, else the pod's service account.
#pragma once

#include <chrono>
#include <string>

#include "common/kube/config.h"
#include "common/kube/http_kube_api.h"
#include "common/result.h"

namespace weft::cli {

struct KubeContext {
  kube::KubeConfig config;
  std::string source;  // "kubeconfig /root/.kube/config" or "in-cluster service account"
};

// `flag` is --kubeconfig (empty when not given). $KUBECONFIG may list files
// separated by ':'; the first that exists is used (kubectl merges them, we do
// not). A file that is named but unreadable is an error, never skipped.
Result<KubeContext> resolveKubeContext(const std::string& flag);

// Client options for one weftctl command: each request bounded by `timeout`,
// rounded up to whole seconds (what cpprestsdk counts).
kube::HttpKubeApiOptions kubeApiOptions(std::chrono::milliseconds timeout, std::string userAgent);

}  // namespace weft::cli
