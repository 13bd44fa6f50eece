// A validator for the OpenAPI v3 subset our CRDs use, with the API server's structural-schema and
// defaulting rules; test code only. CEL rules are collected, not evaluated (that needs a server).
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"

namespace weft::test::crds {

using json::Json;

// One refusal, phrased like the API server's field errors ("spec.x: Invalid value: ...").
struct Violation {
  std::string path;
  std::string message;

  std::string describe() const { return path + ": " + message; }
};

// Problems that make `schema` (an openAPIV3Schema) non-structural, or that use a keyword
// validate() does not implement, or that would make CEL cost estimates unbounded. Empty = fine.
std::vector<std::string> checkStructural(const Json& schema);

// Sets missing fields to their schema defaults, top-down, so that a defaulted object gets its
// own nested defaults too, as the API server does.
void applyDefaults(const Json& schema, Json& value);

// Validates an already-defaulted value. Unknown fields are refused, as with the server's
// strict field validation (kubectl's default).
std::vector<Violation> validate(const Json& schema, const Json& value);

// A CEL rule found in x-kubernetes-validations, with the schema path it is attached to.
struct CelRule {
  std::string path;
  std::string rule;
  std::string message;
};
std::vector<CelRule> collectRules(const Json& schema);

// Every field below the root, as "spec.rules[].matches[].path.type" (arrays as "[]").
std::vector<std::string> fieldPaths(const Json& schema);

// The schema node a simple JSONPath names (".spec.a", ".spec.l[*].b",
// ".status.conditions[?(@.type==\"X\")].status"), or nullptr when it names no field.
const Json* resolveJsonPath(const Json& schema, const std::string& path);

}  // namespace weft::test::crds
