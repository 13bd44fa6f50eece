// Small helpers over schema nodes shared by the validator and the structural checks (test code).
#pragma once

#include <string>

#include "common/json/json.h"

namespace weft::test::crds::detail {

using json::Json;

inline std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

inline bool isScalarType(const std::string& t) {
  return t == "string" || t == "integer" || t == "number" || t == "boolean";
}

inline std::string typeOf(const Json& schema) {
  auto it = schema.find("type");
  if (it == schema.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

inline bool hasType(const Json& v, const std::string& t) {
  if (t == "object") {
    return v.is_object();
  }
  if (t == "array") {
    return v.is_array();
  }
  if (t == "string") {
    return v.is_string();
  }
  if (t == "integer") {
    return v.is_number_integer();
  }
  if (t == "number") {
    return v.is_number();
  }
  if (t == "boolean") {
    return v.is_boolean();
  }
  return false;
}

}  // namespace weft::test::crds::detail
