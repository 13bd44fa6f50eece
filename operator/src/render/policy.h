// Destination policy: the built-in defaults of docs/api.md, overridden field
// by field by the Mesh's defaults and then by TrafficPolicies.
#pragma once

#include <string>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::op::render {

// The `policy` member of an Outbound document with every default filled in.
json::Json defaultPolicy();

// Reads the policy fields of a spec in the CRD shape (loadBalancer.type,
// timeouts, retries with retryOn/perTryTimeout/budget.percent, circuitBreaker,
// outlierDetection; other members are ignored here) and applies the ones
// present onto `policy`, in the documents' shape. Nothing is applied on error.
// `path` prefixes error messages ("spec").
Result<void> applyPolicy(const json::Json& spec, const std::string& path, json::Json& policy);

// Reads a CRD `retries`/`retry` object (every field optional) into the
// documents' shape. perTryTimeout goes to (*timeouts)["perTry"]; it is refused
// when timeouts is null.
Result<json::Json> readRetries(const json::Json& value, const std::string& path,
                               json::Json* timeouts);

}  // namespace weft::op::render
