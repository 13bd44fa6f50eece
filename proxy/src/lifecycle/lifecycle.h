// `weft-proxy wait` and `weft-proxy drain`: the clients of the admin port that
// the first-container layout's postStart and preStop hooks run (see
// webhook/src/inject/parts.cc). They talk to the proxy over loopback HTTP only.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace weft::proxy::lifecycle {

struct LifecycleOptions {
  std::string admin = "127.0.0.1:15100";  // the proxy's admin listener, IP:PORT
  std::chrono::milliseconds timeout{300000};
  std::chrono::milliseconds interval{100};  // between two polls
};

// Polls GET /ready until it answers 200. An Error when `timeout` passes first,
// saying what the last poll saw (refused, 503, ...).
Result<void> waitReady(const LifecycleOptions& options);

// What drain() saw.
struct DrainOutcome {
  bool proxyGone = false;  // nothing listens on the admin port: nothing to drain
};

// Sends POST /drain until the proxy answers 200 (no connection open any more).
// An Error when the proxy refuses (403, 404) or `timeout` passes first.
Result<DrainOutcome> drain(const LifecycleOptions& options);

}  // namespace weft::proxy::lifecycle
