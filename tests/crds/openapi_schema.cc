// OpenAPI v3 subset validation, defaulting and schema walks for the CRD tests.
#include "tests/crds/openapi_schema.h"

#include <algorithm>
#include <regex>
#include <set>

#include "tests/crds/schema_node.h"

namespace weft::test::crds {
namespace {

using detail::hasType;
using detail::join;
using detail::typeOf;

std::string jsonType(const Json& v) {
  if (v.is_null()) {
    return "null";
  }
  if (v.is_boolean()) {
    return "boolean";
  }
  if (v.is_number_integer()) {
    return "integer";
  }
  if (v.is_number()) {
    return "number";
  }
  if (v.is_string()) {
    return "string";
  }
  if (v.is_array()) {
    return "array";
  }
  return "object";
}

// Length in code points, as the API server counts it.
std::size_t codePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

bool regexSearch(const std::string& pattern, const std::string& text) {
  try {
    return std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    return false;  // checkStructural reports patterns that do not compile
  }
}

bool isDateTime(const std::string& s) {
  static const std::regex kRfc3339(
      R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$)");
  return std::regex_match(s, kRfc3339);
}

std::string number(const Json& v) { return json::dump(v); }

void validateNode(const Json& schema, const Json& value, const std::string& path,
                  std::vector<Violation>& out);

void validateString(const Json& schema, const std::string& s, const std::string& path,
                    std::vector<Violation>& out) {
  const std::string shown = json::dump(Json(s));
  if (schema.contains("maxLength") && codePoints(s) > schema["maxLength"].get<std::size_t>()) {
    out.push_back({path, "Too long: may not be longer than " + number(schema["maxLength"])});
  }
  if (schema.contains("minLength") && codePoints(s) < schema["minLength"].get<std::size_t>()) {
    out.push_back({path, "Invalid value: " + shown + ": should be at least " +
                             number(schema["minLength"]) + " chars long"});
  }
  if (schema.contains("pattern")) {
    const auto& pattern = schema["pattern"].get_ref<const std::string&>();
    if (!regexSearch(pattern, s)) {
      out.push_back({path, "Invalid value: " + shown + ": should match '" + pattern + "'"});
    }
  }
  if (schema.value("format", "") == "date-time" && !isDateTime(s)) {
    out.push_back({path, "Invalid value: " + shown + ": should be a date-time"});
  }
}

void validateArray(const Json& schema, const Json& value, const std::string& path,
                   std::vector<Violation>& out) {
  const std::string count = std::to_string(value.size());
  if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) {
    out.push_back({path, "Too many: " + count + ": must have at most " +
                             number(schema["maxItems"]) + " items"});
  }
  if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) {
    out.push_back({path, "Invalid value: " + count + ": should have at least " +
                             number(schema["minItems"]) + " items"});
  }
  if (schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      validateNode(schema["items"], value[i], path + "[" + std::to_string(i) + "]", out);
    }
  }
  const std::string listType = schema.value("x-kubernetes-list-type", "atomic");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < value.size(); ++i) {
    std::string key;
    if (listType == "set") {
      key = json::dump(value[i]);
    } else if (listType == "map" && value[i].is_object()) {
      Json tuple = Json::object();
      for (const auto& k : schema.value("x-kubernetes-list-map-keys", Json::array())) {
        const auto& name = k.get_ref<const std::string&>();
        tuple[name] = value[i].value(name, Json());
      }
      key = json::dump(tuple);
    } else {
      continue;
    }
    if (!seen.insert(key).second) {
      out.push_back({path + "[" + std::to_string(i) + "]", "Duplicate value: " + key});
    }
  }
}

void validateObject(const Json& schema, const Json& value, const std::string& path,
                    std::vector<Violation>& out) {
  if (schema.contains("additionalProperties")) {
    if (schema.contains("maxProperties") &&
        value.size() > schema["maxProperties"].get<std::size_t>()) {
      out.push_back({path, "Too many: " + std::to_string(value.size()) + ": must have at most " +
                               number(schema["maxProperties"]) + " items"});
    }
    if (schema["additionalProperties"].is_object()) {
      for (const auto& [k, v] : value.items()) {
        validateNode(schema["additionalProperties"], v, join(path, k), out);
      }
    }
    return;
  }
  if (!schema.contains("properties")) {
    return;  // metadata: validated by the server's ObjectMeta rules, not the schema
  }
  const Json& props = schema["properties"];
  if (schema.contains("required")) {
    for (const auto& r : schema["required"]) {
      const auto& name = r.get_ref<const std::string&>();
      if (!value.contains(name)) {
        out.push_back({join(path, name), "Required value"});
      }
    }
  }
  for (const auto& [k, v] : value.items()) {
    if (!props.contains(k)) {
      out.push_back({join(path, k), "unknown field \"" + join(path, k) + "\""});
      continue;
    }
    validateNode(props[k], v, join(path, k), out);
  }
}

void validateNode(const Json& schema, const Json& value, const std::string& path,
                  std::vector<Violation>& out) {
  const std::string type = typeOf(schema);
  if (!hasType(value, type)) {
    out.push_back({path, "Invalid value: \"" + jsonType(value) + "\": must be of type " + type});
    return;
  }
  if (schema.contains("enum")) {
    const Json& values = schema["enum"];
    if (std::find(values.begin(), values.end(), value) == values.end()) {
      std::string supported;
      for (const auto& e : values) {
        supported += (supported.empty() ? "" : ", ") + json::dump(e);
      }
      out.push_back(
          {path, "Unsupported value: " + json::dump(value) + ": supported values: " + supported});
    }
  }
  if (type == "string") {
    validateString(schema, value.get_ref<const std::string&>(), path, out);
  } else if (type == "integer" || type == "number") {
    if (schema.contains("minimum") && value < schema["minimum"]) {
      out.push_back({path, "Invalid value: " + json::dump(value) +
                               ": should be greater than or equal to " +
                               number(schema["minimum"])});
    }
    if (schema.contains("maximum") && value > schema["maximum"]) {
      out.push_back({path, "Invalid value: " + json::dump(value) +
                               ": should be less than or equal to " + number(schema["maximum"])});
    }
  } else if (type == "array") {
    validateArray(schema, value, path, out);
  } else if (type == "object") {
    validateObject(schema, value, path, out);
  }
}

void collect(const Json& node, const std::string& path, std::vector<CelRule>& out) {
  if (!node.is_object()) {
    return;
  }
  for (const auto& r : node.value("x-kubernetes-validations", Json::array())) {
    out.push_back({path, r.value("rule", ""), r.value("message", "")});
  }
  const Json props = node.value("properties", Json::object());
  for (const auto& [name, child] : props.items()) {
    collect(child, join(path, name), out);
  }
  if (node.contains("items")) {
    collect(node["items"], path + "[]", out);
  }
  if (node.contains("additionalProperties")) {
    collect(node["additionalProperties"], path + "{}", out);
  }
}

void paths(const Json& node, const std::string& path, std::vector<std::string>& out) {
  if (!node.is_object()) {
    return;
  }
  const Json* inner = &node;
  std::string innerPath = path;
  while (typeOf(*inner) == "array" && inner->contains("items")) {
    inner = &(*inner)["items"];
    innerPath += "[]";
  }
  const Json props = inner->value("properties", Json::object());
  for (const auto& [name, child] : props.items()) {
    const std::string childPath = join(innerPath, name);
    out.push_back(childPath);
    paths(child, childPath, out);
  }
}

}  // namespace

void applyDefaults(const Json& schema, Json& value) {
  const std::string type = typeOf(schema);
  if (type == "object" && value.is_object()) {
    if (schema.contains("properties")) {
      for (const auto& [name, child] : schema["properties"].items()) {
        if (!value.contains(name) && child.contains("default")) {
          value[name] = child["default"];
        }
        if (value.contains(name)) {
          applyDefaults(child, value[name]);
        }
      }
    } else if (schema.contains("additionalProperties")) {
      for (auto& [k, v] : value.items()) {
        applyDefaults(schema["additionalProperties"], v);
      }
    }
  } else if (type == "array" && value.is_array() && schema.contains("items")) {
    for (auto& item : value) {
      applyDefaults(schema["items"], item);
    }
  }
}

std::vector<Violation> validate(const Json& schema, const Json& value) {
  std::vector<Violation> out;
  validateNode(schema, value, "", out);
  return out;
}

std::vector<CelRule> collectRules(const Json& schema) {
  std::vector<CelRule> out;
  collect(schema, "", out);
  return out;
}

std::vector<std::string> fieldPaths(const Json& schema) {
  std::vector<std::string> out;
  paths(schema, "", out);
  return out;
}

const Json* resolveJsonPath(const Json& schema, const std::string& path) {
  static const std::regex kToken(
      R"(^(\.([A-Za-z0-9_]+)|\[\*\]|\[\?\(@\.[A-Za-z]+=="[A-Za-z]+"\)\]))");
  const Json* node = &schema;
  std::string rest = path;
  while (!rest.empty()) {
    std::smatch m;
    if (!std::regex_search(rest, m, kToken)) {
      return nullptr;
    }
    if (m[2].matched) {
      const std::string name = m[2];
      if (typeOf(*node) != "object" || !node->contains("properties") ||
          !(*node)["properties"].contains(name)) {
        return nullptr;
      }
      node = &(*node)["properties"][name];
    } else {
      if (typeOf(*node) != "array") {
        return nullptr;
      }
      node = &(*node)["items"];
    }
    rest = m.suffix();
  }
  return node;
}

}  // namespace weft::test::crds
