// JSON helpers over nlohmann::json: parsing that returns Result instead of
// throwing, and typed lookups whose errors name the JSON pointer. Include
// only where JSON is handled; it is a heavy header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace weft::json {

using Json = nlohmann::json;

// Parses one JSON document. Errors carry the byte offset of the problem.
Result<Json> parse(std::string_view text);

// Compact (indent < 0) or pretty output; never throws on invalid UTF-8 (it is
// replaced), since the bytes may come from the network.
std::string dump(const Json& value, int indent = -1);

// Typed lookups by JSON pointer ("/spec/mtls/mode"). A missing member is
// kNotFound; a member of the wrong type is kInvalidArgument naming the path.
Result<std::string> getString(const Json& doc, std::string_view pointer);
Result<std::int64_t> getInt(const Json& doc, std::string_view pointer);
Result<double> getNumber(const Json& doc, std::string_view pointer);
Result<bool> getBool(const Json& doc, std::string_view pointer);
Result<Json> getObject(const Json& doc, std::string_view pointer);
Result<Json> getArray(const Json& doc, std::string_view pointer);

// The same, with a fallback when the member is absent (a wrong type is still an error).
Result<std::string> getStringOr(const Json& doc, std::string_view pointer, std::string fallback);
Result<std::int64_t> getIntOr(const Json& doc, std::string_view pointer, std::int64_t fallback);
Result<bool> getBoolOr(const Json& doc, std::string_view pointer, bool fallback);

}  // namespace weft::json
