// JSON parsing and typed access without exceptions escaping.
#include "common/json/json.h"

namespace weft::json {
namespace {

Result<const Json*> find(const Json& doc, std::string_view pointer) {
  try {
    Json::json_pointer ptr{std::string(pointer)};
    if (!doc.contains(ptr)) {
      return makeError(ErrorCode::kNotFound, std::string(pointer) + ": missing");
    }
    return &doc.at(ptr);
  } catch (const Json::exception& e) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(pointer) + ": bad JSON pointer: " + e.what());
  }
}

Error wrongType(std::string_view pointer, const char* expected, const Json& got) {
  return makeError(ErrorCode::kInvalidArgument,
                   std::string(pointer) + ": expected " + expected + ", got " + got.type_name());
}

}  // namespace

Result<Json> parse(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return makeError(ErrorCode::kParse,
                     "invalid JSON at byte " + std::to_string(e.byte) + ": " +
                         // nlohmann prefixes "[json.exception.parse_error.101] "
                         std::string(e.what()).substr(std::string(e.what()).find(']') + 2));
  }
}

std::string dump(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> getString(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  if (!(*node)->is_string()) {
    return wrongType(pointer, "a string", **node);
  }
  return (*node)->get<std::string>();
}

Result<std::int64_t> getInt(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  const Json& v = **node;
  // is_number_integer() is also true for unsigned values: check those first.
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) {
      return makeError(ErrorCode::kInvalidArgument, std::string(pointer) + ": integer too large");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    return v.get<std::int64_t>();
  }
  return wrongType(pointer, "an integer", v);
}

Result<double> getNumber(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  if (!(*node)->is_number()) {
    return wrongType(pointer, "a number", **node);
  }
  return (*node)->get<double>();
}

Result<bool> getBool(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  if (!(*node)->is_boolean()) {
    return wrongType(pointer, "a boolean", **node);
  }
  return (*node)->get<bool>();
}

Result<Json> getObject(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  if (!(*node)->is_object()) {
    return wrongType(pointer, "an object", **node);
  }
  return **node;
}

Result<Json> getArray(const Json& doc, std::string_view pointer) {
  auto node = find(doc, pointer);
  if (!node) {
    return node.error();
  }
  if (!(*node)->is_array()) {
    return wrongType(pointer, "an array", **node);
  }
  return **node;
}

Result<std::string> getStringOr(const Json& doc, std::string_view pointer, std::string fallback) {
  auto r = getString(doc, pointer);
  if (!r && r.error().code == ErrorCode::kNotFound) {
    return fallback;
  }
  return r;
}

Result<std::int64_t> getIntOr(const Json& doc, std::string_view pointer, std::int64_t fallback) {
  auto r = getInt(doc, pointer);
  if (!r && r.error().code == ErrorCode::kNotFound) {
    return fallback;
  }
  return r;
}

Result<bool> getBoolOr(const Json& doc, std::string_view pointer, bool fallback) {
  auto r = getBool(doc, pointer);
  if (!r && r.error().code == ErrorCode::kNotFound) {
    return fallback;
  }
  return r;
}

}  // namespace weft::json
