// The test validator itself: it must refuse what the API server refuses, or the CRD tests prove
// nothing.
#include "tests/crds/openapi_schema.h"

#include <gtest/gtest.h>

namespace weft::test::crds {
namespace {

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {
      "description": "s", "type": "object", "required": ["name"],
      "properties": {
        "name": {"description": "n", "type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
        "mode": {"description": "m", "type": "string", "enum": ["A", "B"], "default": "A"},
        "count": {"description": "c", "type": "integer", "minimum": 1, "maximum": 3},
        "nested": {"description": "d", "type": "object", "default": {},
                   "properties": {"inner": {"description": "i", "type": "integer", "default": 7}}},
        "list": {"description": "l", "type": "array", "maxItems": 2,
                 "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"],
                 "items": {"type": "object", "required": ["key"],
                           "properties": {"key": {"description": "k", "type": "string",
                                                  "maxLength": 9}}}},
        "labels": {"description": "m", "type": "object", "maxProperties": 1,
                   "additionalProperties": {"type": "string", "maxLength": 3}}
      }
    }
  }
})");

std::vector<std::string> errorsOf(const Json& value) {
  Json v = value;
  applyDefaults(kSchema, v);
  std::vector<std::string> out;
  for (const auto& violation : validate(kSchema, v)) {
    out.push_back(violation.describe());
  }
  return out;
}

TEST(OpenApiSchemaTest, AcceptsAValidValueAndFillsNestedDefaults) {
  Json v = Json::parse(R"({"spec": {"name": "abc", "list": [{"key": "x"}, {"key": "y"}]}})");
  applyDefaults(kSchema, v);
  EXPECT_EQ(v["spec"]["mode"], "A");
  EXPECT_EQ(v["spec"]["nested"]["inner"], 7);
  EXPECT_TRUE(validate(kSchema, v).empty());
  EXPECT_TRUE(checkStructural(kSchema).empty());
}

TEST(OpenApiSchemaTest, DefaultsNeverOverrideWhatIsSet) {
  Json v = Json::parse(R"({"spec": {"name": "a", "mode": "B", "nested": {"inner": 1}}})");
  applyDefaults(kSchema, v);
  EXPECT_EQ(v["spec"]["mode"], "B");
  EXPECT_EQ(v["spec"]["nested"]["inner"], 1);
  EXPECT_FALSE(v["spec"].contains("count"));  // no default, stays unset
}

TEST(OpenApiSchemaTest, ListsFieldPathsAndRules) {
  const Json schema = Json::parse(R"json({"type": "object", "properties": {"spec": {
      "type": "object", "x-kubernetes-validations": [{"rule": "has(self.l)", "message": "m1"}],
      "properties": {"l": {"type": "array", "items": {"type": "object",
          "x-kubernetes-validations": [{"rule": "self.k > 0", "message": "m2"}],
          "properties": {"k": {"type": "integer"}}}}}}}})json");
  EXPECT_EQ(fieldPaths(schema), (std::vector<std::string>{"spec", "spec.l", "spec.l[].k"}));
  auto rules = collectRules(schema);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].path, "spec");
  EXPECT_EQ(rules[0].message, "m1");
  EXPECT_EQ(rules[1].path, "spec.l[]");
  EXPECT_EQ(rules[1].rule, "self.k > 0");
}

TEST(OpenApiSchemaTest, RefusesEachKindOfViolation) {
  auto one = [](const char* spec) {
    auto errors = errorsOf(Json::parse(std::string(R"({"spec": )") + spec + "}"));
    return errors.size() == 1 ? errors.front() : "errors: " + std::to_string(errors.size());
  };
  EXPECT_EQ(one(R"({})"), "spec.name: Required value");
  EXPECT_EQ(one(R"({"name": 5})"), "spec.name: Invalid value: \"integer\": must be of type string");
  EXPECT_EQ(one(R"({"name": "abcdef"})"), "spec.name: Too long: may not be longer than 5");
  EXPECT_EQ(one(R"({"name": "ab1"})"),
            "spec.name: Invalid value: \"ab1\": should match '^[a-z]+$'");
  EXPECT_EQ(one(R"({"name": "a", "mode": "C"})"),
            "spec.mode: Unsupported value: \"C\": supported values: \"A\", \"B\"");
  EXPECT_EQ(one(R"({"name": "a", "count": 0})"),
            "spec.count: Invalid value: 0: should be greater than or equal to 1");
  EXPECT_EQ(one(R"({"name": "a", "count": 4})"),
            "spec.count: Invalid value: 4: should be less than or equal to 3");
  EXPECT_EQ(one(R"({"name": "a", "count": 2.5})"),
            "spec.count: Invalid value: \"number\": must be of type integer");
  EXPECT_EQ(one(R"({"name": "a", "extra": 1})"), "spec.extra: unknown field \"spec.extra\"");
  EXPECT_EQ(one(R"({"name": "a", "list": [{"key": "x"}, {"key": "x"}]})"),
            "spec.list[1]: Duplicate value: {\"key\":\"x\"}");
  EXPECT_EQ(one(R"({"name": "a", "list": [{"key": "x"}, {"key": "y"}, {"key": "z"}]})"),
            "spec.list: Too many: 3: must have at most 2 items");
  EXPECT_EQ(one(R"({"name": "a", "labels": {"a": "b", "c": "d"}})"),
            "spec.labels: Too many: 2: must have at most 1 items");
  EXPECT_EQ(one(R"({"name": "a", "labels": {"a": "long"}})"),
            "spec.labels.a: Too long: may not be longer than 3");
  EXPECT_EQ(one(R"({"name": "a", "nested": {"inner": null}})"),
            "spec.nested.inner: Invalid value: \"null\": must be of type integer");
}

bool structuralErrorMentions(const Json& schema, const std::string& what) {
  for (const auto& e : checkStructural(schema)) {
    if (e.find(what) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(OpenApiSchemaTest, StructuralCheckRefusesWhatTheApiServerRefuses) {
  auto withSpec = [](const char* spec) {
    return Json::parse(std::string(R"({"type": "object", "properties": {"spec": )") + spec + "}}");
  };
  EXPECT_TRUE(structuralErrorMentions(withSpec(R"({"description": "x"})"), "needs a type"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(
          R"({"description": "x", "type": "object", "x-kubernetes-preserve-unknown-fields": true})"),
      "preserve-unknown-fields"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(R"({"description": "x", "type": "object", "anyOf": [{"required": ["a"]}],
                   "properties": {"a": {"description": "a", "type": "boolean"}}})"),
      "unsupported keyword anyOf"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(R"({"description": "x", "type": "string", "maxLength": 3, "default": "long"})"),
      "default does not validate"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(R"({"description": "x", "type": "array", "items": {"type": "integer"}})"),
      "maxItems"));
  EXPECT_TRUE(structuralErrorMentions(withSpec(R"({"description": "x", "type": "string"})"),
                                      "maxLength or enum"));
  EXPECT_TRUE(structuralErrorMentions(withSpec(R"({"description": "x", "type": "object",
                   "properties": {"on": {"description": "o", "type": "boolean"}}})"),
                                      "YAML 1.1"));
  EXPECT_TRUE(
      structuralErrorMentions(withSpec(R"({"description": "x", "type": "object", "required": ["b"],
                   "properties": {"a": {"description": "a", "type": "boolean"}}})"),
                              "unknown property"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(
          R"({"type": "object", "properties": {"a": {"description": "a", "type": "boolean"}}})"),
      "description"));
  EXPECT_TRUE(
      structuralErrorMentions(withSpec(R"({"description": "x", "type": "array", "maxItems": 2,
                   "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                   "items": {"type": "object",
                             "properties": {"k": {"description": "k", "type": "integer"}}}})"),
                              "must be required or defaulted"));
  EXPECT_TRUE(structuralErrorMentions(
      withSpec(
          R"({"description": "x", "type": "object", "x-kubernetes-validations": [{"rule": "true"}]})"),
      "needs a message"));
}

TEST(OpenApiSchemaTest, ResolvesPrinterColumnPaths) {
  EXPECT_NE(resolveJsonPath(kSchema, ".spec.name"), nullptr);
  EXPECT_NE(resolveJsonPath(kSchema, ".spec.list[*].key"), nullptr);
  EXPECT_NE(resolveJsonPath(kSchema, ".spec.list[?(@.key==\"x\")].key"), nullptr);
  EXPECT_EQ(resolveJsonPath(kSchema, ".spec.nope"), nullptr);
  EXPECT_EQ(resolveJsonPath(kSchema, ".spec.name[*]"), nullptr);
}

}  // namespace
}  // namespace weft::test::crds
