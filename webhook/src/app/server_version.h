// The Kubernetes server version at startup, which decides between native
// sidecars (1.29+) and the first-container layout.
#pragma once

#include <chrono>
#include <string>

#include "common/kube/http_kube_api.h"
#include "common/result.h"

namespace weft::webhook {

// Asks GET /version until it answers or `budget` has passed, backing off from
// 200 ms to 5 s between tries; returns the gitVersion (e.g. "v1.30.2").
Result<std::string> fetchServerVersion(kube::HttpKubeApi& api, std::chrono::milliseconds budget);

}  // namespace weft::webhook
