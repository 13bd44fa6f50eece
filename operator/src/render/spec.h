// Checked reads of custom-resource spec fields, with errors that name the
// field ("spec.retries.attempts: must be an integer from 1 to 10").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::op::render::spec {

using json::Json;

Error invalid(const std::string& path, const std::string& message);

// `value` must be an object whose members are all in `known`.
Result<void> object(const Json& value, const std::string& path,
                    std::initializer_list<const char*> known);
Result<std::string> string(const Json& value, const std::string& path);
Result<std::int64_t> integer(const Json& value, const std::string& path, std::int64_t min,
                             std::int64_t max);
Result<double> number(const Json& value, const std::string& path, double min, double max);
Result<bool> boolean(const Json& value, const std::string& path);
// A duration in the documents' canonical form; "" is kept when allowNone.
Result<std::string> duration(const Json& value, const std::string& path, bool allowNone);
// One of `names`.
Result<std::string> oneOf(const Json& value, const std::string& path,
                          std::initializer_list<const char*> names);
// An HTTP path match {type, value} in the documents' shape.
Result<Json> pathMatch(const Json& value, const std::string& path);

// A reference to a Service in the same namespace: {group: "", kind: Service,
// name, port}; port 0 means the whole Service unless portRequired.
struct ServiceRef {
  std::string name;
  std::int64_t port = 0;
};
Result<ServiceRef> serviceRef(const Json& value, const std::string& path, bool portRequired);

}  // namespace weft::op::render::spec
