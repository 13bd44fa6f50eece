// TrafficRoute rules into the Outbound document's `routes`: matches,
// weighted backends, timeout, retries, header filters, mirror and fault.
// Pure; also validates (errors name the field).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::op::render {

// The Outbound `routes` for one TrafficRoute attached to a Service port.
// Every backend it names (by authority) is added to `backendRefs` as
// authority -> {"ns/service", port}.
struct BackendRef {
  std::string serviceKey;
  std::int64_t port = 0;
};
Result<json::Json> renderRoutes(const json::Json& route,
                                std::map<std::string, BackendRef>& backendRefs);

}  // namespace weft::op::render
