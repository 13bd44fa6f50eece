// YAML in and out, through JSON: manifests and config files are read as
// YAML 1.2 (core schema) into nlohmann::json, and objects are written back
// as YAML. yaml-cpp stays inside yaml.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::yaml {

// Every document of a (multi-document) YAML stream, empty documents skipped.
// Errors carry the 1-based line and column. Duplicate keys are refused.
Result<std::vector<json::Json>> parseAll(std::string_view text);

// Exactly one document.
Result<json::Json> parseOne(std::string_view text);

// Block-style YAML; strings that would read back as another type are quoted.
std::string dump(const json::Json& value);

// Several documents separated by "---".
std::string dumpAll(const std::vector<json::Json>& documents);

}  // namespace weft::yaml
