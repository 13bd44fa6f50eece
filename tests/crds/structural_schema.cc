// Structural-schema checks: what the API server requires of a CRD schema, plus what keeps CEL costs
// bounded and lets the test validator check every keyword used.
#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "tests/crds/openapi_schema.h"
#include "tests/crds/schema_node.h"

namespace weft::test::crds {
namespace {

using detail::hasType;
using detail::isScalarType;
using detail::join;
using detail::typeOf;

// Exactly the keywords validate() implements; anything else is refused by checkStructural, so a
// schema can never rely on a rule this test silently ignores.
const std::set<std::string> kKeywords = {"type",
                                         "description",
                                         "properties",
                                         "required",
                                         "items",
                                         "enum",
                                         "default",
                                         "minimum",
                                         "maximum",
                                         "minLength",
                                         "maxLength",
                                         "pattern",
                                         "minItems",
                                         "maxItems",
                                         "maxProperties",
                                         "additionalProperties",
                                         "format",
                                         "x-kubernetes-validations",
                                         "x-kubernetes-list-type",
                                         "x-kubernetes-list-map-keys"};

// Paths where x-kubernetes-preserve-unknown-fields is intended. None: every field is typed.
const std::set<std::string> kPreserveUnknownAllowed = {};

// Plain scalars that YAML 1.1 parsers (kubectl's among them) read as booleans: a field named
// like this would arrive as "true"/"false" when a user writes it unquoted.
const std::set<std::string> kYaml11Bools = {"y", "yes", "n", "no", "on", "off", "true", "false"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Checker {
  std::vector<std::string> errors;

  void fail(const std::string& path, const std::string& what) {
    errors.push_back((path.empty() ? std::string("<root>") : path) + ": " + what);
  }

  void checkRules(const Json& node, const std::string& path) {
    const Json& rules = node["x-kubernetes-validations"];
    if (!rules.is_array() || rules.empty()) {
      fail(path, "x-kubernetes-validations must be a non-empty list");
      return;
    }
    for (const auto& r : rules) {
      if (!r.is_object()) {
        fail(path, "a validation rule must be an object");
        continue;
      }
      for (const auto& [k, v] : r.items()) {
        if (k != "rule" && k != "message" && k != "reason" && k != "fieldPath") {
          fail(path, "unsupported validation rule key " + k);
        }
      }
      if (!r.contains("rule") || !r["rule"].is_string() || r["rule"].get<std::string>().empty()) {
        fail(path, "a validation rule needs a non-empty rule");
      }
      if (!r.contains("message") || !r["message"].is_string()) {
        fail(path, "a validation rule needs a message");
        continue;
      }
      const auto& message = r["message"].get_ref<const std::string&>();
      if (message.empty() || message.find('\n') != std::string::npos || message.back() == ' ') {
        fail(path, "a rule message must be one non-empty line: " + message);
      }
    }
  }

  void checkDefault(const Json& node, const std::string& path) {
    Json value = node["default"];
    applyDefaults(node, value);
    for (const auto& v : validate(node, value)) {
      fail(path, "default does not validate: " + v.describe());
    }
  }

  void checkArray(const Json& node, const std::string& path) {
    if (!node.contains("items") || !node["items"].is_object()) {
      fail(path, "an array needs one items schema");
      return;
    }
    if (!node.contains("maxItems")) {
      fail(path, "an array needs maxItems (bounded CEL cost and request size)");
    }
    const Json& items = node["items"];
    const std::string listType = node.value("x-kubernetes-list-type", "atomic");
    if (listType != "atomic" && listType != "set" && listType != "map") {
      fail(path, "x-kubernetes-list-type must be atomic, set or map");
    }
    if (node.contains("x-kubernetes-list-map-keys") != (listType == "map")) {
      fail(path, "x-kubernetes-list-map-keys goes with x-kubernetes-list-type: map only");
    }
    if (listType == "set" && !isScalarType(typeOf(items))) {
      fail(path, "a set lists scalars");
    }
    if (listType == "map") {
      const Json& keys = node["x-kubernetes-list-map-keys"];
      if (typeOf(items) != "object" || !keys.is_array() || keys.empty()) {
        fail(path, "a map list needs object items and keys");
      } else {
        const Json required = items.value("required", Json::array());
        for (const auto& k : keys) {
          const std::string key = k.get<std::string>();
          const Json* prop = items.contains("properties") && items["properties"].contains(key)
                                 ? &items["properties"][key]
                                 : nullptr;
          if (prop == nullptr || !isScalarType(typeOf(*prop))) {
            fail(path, "map key " + key + " must be a scalar property of the items");
          } else if (std::find(required.begin(), required.end(), k) == required.end() &&
                     !prop->contains("default")) {
            fail(path, "map key " + key + " must be required or defaulted");
          }
        }
      }
    }
    walk(items, path + "[]", false);
  }

  void checkObject(const Json& node, const std::string& path) {
    const bool hasProps = node.contains("properties");
    const bool hasAdditional = node.contains("additionalProperties");
    if (hasProps && hasAdditional) {
      fail(path, "properties and additionalProperties are mutually exclusive");
    }
    if (!hasProps && !hasAdditional && path != "metadata") {
      fail(path, "an object without properties would prune every field");
    }
    if (hasAdditional) {
      if (!node["additionalProperties"].is_object()) {
        fail(path, "additionalProperties must be a schema");
      } else {
        if (!node.contains("maxProperties")) {
          fail(path, "a map needs maxProperties (bounded CEL cost)");
        }
        walk(node["additionalProperties"], path + "{}", false);
      }
    }
    if (!hasProps) {
      return;
    }
    const Json& props = node["properties"];
    for (const auto& [name, child] : props.items()) {
      const std::string childPath = join(path, name);
      if (kYaml11Bools.count(lower(name)) > 0) {
        fail(childPath, "YAML 1.1 parsers (kubectl) read this field name as a boolean");
      }
      if (path.empty() && name == "metadata") {
        checkMetadata(child);
        continue;
      }
      if (!child.is_object() || !child.contains("description") ||
          !child["description"].is_string() || child["description"].get<std::string>().empty()) {
        fail(childPath, "every field needs a description (kubectl explain)");
      }
      walk(child, childPath, false);
    }
    for (const auto& r : node.value("required", Json::array())) {
      if (!r.is_string() || !props.contains(r.get<std::string>())) {
        fail(path, "required names an unknown property " + json::dump(r));
      }
    }
  }

  void checkMetadata(const Json& node) {
    if (typeOf(node) != "object") {
      fail("metadata", "must be of type object");
    }
    for (const auto& [k, v] : node.items()) {
      if (k != "type" && k != "properties") {
        fail("metadata", "only type and properties (name, generateName) are allowed, not " + k);
      }
    }
    const Json props = node.value("properties", Json::object());
    for (const auto& [k, v] : props.items()) {
      if (k != "name" && k != "generateName") {
        fail("metadata", "only name and generateName may be constrained, not " + k);
      }
    }
  }

  void checkScalar(const Json& node, const std::string& path, const std::string& type) {
    if (type == "string" && !node.contains("maxLength") && !node.contains("enum")) {
      fail(path, "a string needs maxLength or enum (bounded CEL cost)");
    }
    if (node.contains("pattern")) {
      try {
        std::regex re(node["pattern"].get<std::string>(), std::regex::ECMAScript);
      } catch (const std::exception& e) {
        fail(path, std::string("pattern does not compile: ") + e.what());
      }
    }
    if (node.contains("format")) {
      const std::string format = node["format"].get<std::string>();
      if (!((type == "string" && format == "date-time") ||
            (type == "integer" && format == "int64"))) {
        fail(path, "unsupported format " + format);
      }
    }
    if (node.contains("minimum") && node.contains("maximum") && node["minimum"] > node["maximum"]) {
      fail(path, "minimum is greater than maximum");
    }
    if (node.contains("minLength") && node.contains("maxLength") &&
        node["minLength"] > node["maxLength"]) {
      fail(path, "minLength is greater than maxLength");
    }
  }

  void checkKeywordsFitType(const Json& node, const std::string& path, const std::string& type) {
    static const std::set<std::string> kObjectOnly = {"properties", "required",
                                                      "additionalProperties", "maxProperties"};
    static const std::set<std::string> kArrayOnly = {
        "items", "minItems", "maxItems", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"};
    static const std::set<std::string> kStringOnly = {"minLength", "maxLength", "pattern"};
    static const std::set<std::string> kNumberOnly = {"minimum", "maximum"};
    for (const auto& [k, v] : node.items()) {
      const bool bad = (kObjectOnly.count(k) > 0 && type != "object") ||
                       (kArrayOnly.count(k) > 0 && type != "array") ||
                       (kStringOnly.count(k) > 0 && type != "string") ||
                       (kNumberOnly.count(k) > 0 && type != "integer" && type != "number");
      if (bad) {
        fail(path, k + " does not apply to type " + type);
      }
    }
  }

  void walk(const Json& node, const std::string& path, bool root) {
    if (!node.is_object()) {
      fail(path, "a schema must be an object");
      return;
    }
    for (const auto& [k, v] : node.items()) {
      if (k == "x-kubernetes-preserve-unknown-fields") {
        if (kPreserveUnknownAllowed.count(path) == 0) {
          fail(path, "x-kubernetes-preserve-unknown-fields is not intended here");
        }
      } else if (kKeywords.count(k) == 0) {
        fail(path, "unsupported keyword " + k + " (teach the test validator first)");
      }
    }
    const std::string type = typeOf(node);
    if (type != "object" && type != "array" && !isScalarType(type)) {
      fail(path, "every node needs a type (object, array, string, integer, number, boolean)");
      return;
    }
    if (root && type != "object") {
      fail(path, "the root must be an object");
    }
    checkKeywordsFitType(node, path, type);
    if (node.contains("enum")) {
      if (!node["enum"].is_array() || node["enum"].empty()) {
        fail(path, "enum must be a non-empty list");
      } else {
        for (const auto& e : node["enum"]) {
          if (!hasType(e, type)) {
            fail(path, "enum value " + json::dump(e) + " is not of type " + type);
          }
        }
      }
    }
    if (node.contains("x-kubernetes-validations")) {
      checkRules(node, path);
    }
    if (type == "object") {
      checkObject(node, path);
    } else if (type == "array") {
      checkArray(node, path);
    } else {
      checkScalar(node, path, type);
    }
    if (node.contains("default")) {
      checkDefault(node, path);
    }
  }
};

}  // namespace

std::vector<std::string> checkStructural(const Json& schema) {
  Checker checker;
  checker.walk(schema, "", true);
  return checker.errors;
}

}  // namespace weft::test::crds
