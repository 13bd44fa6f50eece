// The CRDs in crds/: shape, structural schemas, CEL rules, examples, invalid examples, docs.
#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/yaml/yaml.h"
#include "tests/crds/openapi_schema.h"

namespace weft::test::crds {
namespace {

namespace fs = std::filesystem;

struct CrdInfo {
  std::string file;
  std::string kind;
  std::string plural;
  std::string singular;
  std::string scope;
  std::string shortName;
};

const std::vector<CrdInfo> kCrds = {
    {"weft.io_meshes.yaml", "Mesh", "meshes", "mesh", "Cluster", "wmesh"},
    {"weft.io_trafficpolicies.yaml", "TrafficPolicy", "trafficpolicies", "trafficpolicy",
     "Namespaced", "tp"},
    {"weft.io_trafficroutes.yaml", "TrafficRoute", "trafficroutes", "trafficroute", "Namespaced",
     "tr"},
    {"weft.io_accesspolicies.yaml", "AccessPolicy", "accesspolicies", "accesspolicy", "Namespaced",
     "ap"},
};

// The commented example of each kind in examples/.
const std::map<std::string, std::string> kExamples = {
    {"Mesh", "mesh.yaml"},
    {"TrafficPolicy", "traffic-policy.yaml"},
    {"TrafficRoute", "traffic-route.yaml"},
    {"AccessPolicy", "access-policy.yaml"},
};

fs::path sourceDir() { return fs::path(WEFT_SOURCE_DIR); }

std::vector<Json> loadAll(const fs::path& path) {
  auto text = readFile(path.string());
  EXPECT_TRUE(text.ok()) << path << ": " << text.error().describe();
  if (!text.ok()) {
    return {};
  }
  auto docs = yaml::parseAll(*text);
  EXPECT_TRUE(docs.ok()) << path << ": " << docs.error().describe();
  return docs.ok() ? *docs : std::vector<Json>{};
}

Json loadCrd(const CrdInfo& info) {
  auto docs = loadAll(sourceDir() / "crds" / info.file);
  EXPECT_EQ(docs.size(), 1u) << info.file;
  return docs.empty() ? Json::object() : docs.front();
}

Json schemaOf(const Json& crd) {
  const Json::json_pointer ptr("/spec/versions/0/schema/openAPIV3Schema");
  return crd.contains(ptr) ? crd.at(ptr) : Json::object();
}

const Json& schemaOfKind(const std::string& kind) {
  static const std::map<std::string, Json> kByKind = [] {
    std::map<std::string, Json> m;
    for (const auto& info : kCrds) {
      m[info.kind] = schemaOf(loadCrd(info));
    }
    return m;
  }();
  static const Json kNone;
  auto it = kByKind.find(kind);
  return it == kByKind.end() ? kNone : it->second;
}

std::vector<std::string> describeAll(const std::vector<Violation>& violations) {
  std::vector<std::string> out;
  for (const auto& v : violations) {
    out.push_back(v.describe());
  }
  return out;
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += "\n  " + l;
  }
  return out;
}

// A string member of an object, or "" (also for malformed documents).
std::string stringAt(const Json& doc, const char* pointer) {
  const Json::json_pointer ptr(pointer);
  return doc.is_object() && doc.contains(ptr) && doc.at(ptr).is_string()
             ? doc.at(ptr).get<std::string>()
             : "";
}

std::string nameOf(const Json& doc) {
  return stringAt(doc, "/kind") + "/" + stringAt(doc, "/metadata/name");
}

// Defaults, then the schema; also what the server checks of metadata for every object.
std::vector<std::string> validateResource(const Json& doc) {
  const Json& schema = schemaOfKind(stringAt(doc, "/kind"));
  if (schema.is_null()) {
    return {"unknown kind " + stringAt(doc, "/kind")};
  }
  Json value = doc;
  applyDefaults(schema, value);
  auto out = describeAll(validate(schema, value));
  static const std::regex kDnsSubdomain(
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  const std::string name = stringAt(doc, "/metadata/name");
  if (name.empty() || name.size() > 253 || !std::regex_match(name, kDnsSubdomain)) {
    out.push_back("metadata.name: Invalid value: \"" + name + "\": must be a DNS subdomain");
  }
  if (stringAt(doc, "/apiVersion") != "weft.io/v1alpha1") {
    out.push_back("apiVersion: must be weft.io/v1alpha1");
  }
  return out;
}

std::vector<fs::path> yamlFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CrdTest, DefinesEachKindInWeftIoV1alpha1) {
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.file);
    Json crd = loadCrd(info);
    EXPECT_EQ(crd.value("apiVersion", ""), "apiextensions.k8s.io/v1");
    EXPECT_EQ(crd.value("kind", ""), "CustomResourceDefinition");
    EXPECT_EQ(crd["metadata"].value("name", ""), info.plural + ".weft.io");
    const Json& spec = crd["spec"];
    EXPECT_EQ(spec.value("group", ""), "weft.io");
    EXPECT_EQ(spec.value("scope", ""), info.scope);
    const Json& names = spec["names"];
    EXPECT_EQ(names.value("kind", ""), info.kind);
    EXPECT_EQ(names.value("listKind", ""), info.kind + "List");
    EXPECT_EQ(names.value("plural", ""), info.plural);
    EXPECT_EQ(names.value("singular", ""), info.singular);
    EXPECT_EQ(names.value("shortNames", Json::array()), Json::array({info.shortName}));
    EXPECT_EQ(names.value("categories", Json::array()), Json::array({"weft"}));
    ASSERT_EQ(spec["versions"].size(), 1u);
    const Json& version = spec["versions"][0];
    EXPECT_EQ(version.value("name", ""), "v1alpha1");
    EXPECT_EQ(version.value("served", false), true);
    EXPECT_EQ(version.value("storage", false), true);
    EXPECT_EQ(version["subresources"], Json::parse(R"({"status":{}})"));
  }
}

// The Helm chart ships the same files; a drifted copy would install a different API.
TEST(CrdTest, HelmChartShipsIdenticalCopies) {
  const fs::path dir = sourceDir() / "helm" / "weft" / "crds";
  if (!fs::exists(dir)) {
    GTEST_SKIP() << "helm/weft/crds/ does not exist yet";
  }
  for (const auto& info : kCrds) {
    auto original = readFile((sourceDir() / "crds" / info.file).string());
    auto copy = readFile((dir / info.file).string());
    ASSERT_TRUE(original.ok());
    ASSERT_TRUE(copy.ok()) << copy.error().describe();
    EXPECT_EQ(*copy, *original) << "helm/weft/crds/" << info.file << " differs from crds/";
  }
}

TEST(CrdTest, SchemasAreStructuralAndUseOnlyCheckedKeywords) {
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.file);
    const Json schema = schemaOf(loadCrd(info));
    ASSERT_TRUE(schema.is_object());
    auto errors = checkStructural(schema);
    EXPECT_TRUE(errors.empty()) << joinLines(errors);
    ASSERT_TRUE(schema.contains("properties"));
    for (const char* field : {"apiVersion", "kind", "metadata", "spec", "status"}) {
      EXPECT_TRUE(schema["properties"].contains(field)) << field;
    }
  }
}

TEST(CrdTest, StatusHasConditionsListedByType) {
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.file);
    const Json schema = schemaOf(loadCrd(info));
    const Json* conditions = resolveJsonPath(schema, ".status.conditions");
    ASSERT_NE(conditions, nullptr);
    EXPECT_EQ(conditions->value("x-kubernetes-list-type", ""), "map");
    EXPECT_EQ(conditions->value("x-kubernetes-list-map-keys", Json()), Json::array({"type"}));
    std::set<std::string> required;
    for (const auto& r : (*conditions)["items"]["required"]) {
      required.insert(r.get<std::string>());
    }
    EXPECT_EQ(required,
              (std::set<std::string>{"type", "status", "reason", "message", "lastTransitionTime"}));
    EXPECT_TRUE((*conditions)["items"]["properties"].contains("observedGeneration"));
    EXPECT_NE(resolveJsonPath(schema, ".status.observedGeneration"), nullptr);
  }
}

TEST(CrdTest, PrinterColumnsNameSchemaFields) {
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.file);
    Json crd = loadCrd(info);
    const Json& columns = crd["spec"]["versions"][0]["additionalPrinterColumns"];
    ASSERT_TRUE(columns.is_array());
    std::set<std::string> names;
    for (const auto& column : columns) {
      const std::string path = column.value("jsonPath", "");
      names.insert(column.value("name", ""));
      if (path == ".metadata.creationTimestamp") {
        EXPECT_EQ(column.value("type", ""), "date");
        continue;
      }
      const Json schema = schemaOf(crd);
      const Json* field = resolveJsonPath(schema, path);
      ASSERT_NE(field, nullptr) << path;
      const std::string type = field->value("type", "");
      EXPECT_EQ(column.value("type", ""), type) << path;
    }
    EXPECT_TRUE(names.count("Accepted")) << "every kind shows its Accepted condition";
    EXPECT_TRUE(names.count("Age"));
  }
}

// Field references in a CEL rule ("self.a.b", "x.c" for x bound by all/exists/filter/map) that
// the schema at the rule's node does not define: a typo there only fails on a real server.
std::vector<std::string> unknownCelFields(const Json& root, const CelRule& rule) {
  const Json* node = &root;
  std::string rest = rule.path;
  static const std::regex kSegment(R"(^\.?([A-Za-z0-9_]+|\[\]|\{\}))");
  while (!rest.empty()) {
    std::smatch m;
    if (!std::regex_search(rest, m, kSegment)) {
      return {"cannot follow " + rule.path};
    }
    const std::string seg = m[1];
    if (seg == "[]") {
      node = &(*node)["items"];
    } else if (seg == "{}") {
      node = &(*node)["additionalProperties"];
    } else {
      node = &(*node)["properties"][seg];
    }
    rest = m.suffix();
  }
  auto follow = [](const Json* from, const std::string& chain) -> const Json* {
    static const std::regex kField(R"(\.([A-Za-z_][A-Za-z0-9_]*))");
    const Json* at = from;
    for (auto it = std::sregex_iterator(chain.begin(), chain.end(), kField);
         it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      if (at == nullptr || !at->contains("properties") || !(*at)["properties"].contains(name)) {
        return nullptr;
      }
      at = &(*at)["properties"][name];
    }
    return at;
  };
  std::map<std::string, const Json*> vars = {{"self", node}};
  static const std::regex kBind(
      R"(\b([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)\.(?:all|exists|exists_one|filter|map)\(\s*([A-Za-z_]\w*)\s*,)");
  for (auto it = std::sregex_iterator(rule.rule.begin(), rule.rule.end(), kBind);
       it != std::sregex_iterator(); ++it) {
    auto var = vars.find((*it)[1]);
    if (var == vars.end()) {
      continue;
    }
    const Json* list = follow(var->second, (*it)[2]);
    if (list != nullptr && list->contains("items")) {
      vars[(*it)[3]] = &(*list)["items"];
    }
  }
  std::vector<std::string> unknown;
  static const std::regex kRef(R"(\b([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)(\()?)");
  for (auto it = std::sregex_iterator(rule.rule.begin(), rule.rule.end(), kRef);
       it != std::sregex_iterator(); ++it) {
    auto var = vars.find((*it)[1]);
    if (var == vars.end()) {
      continue;
    }
    std::string chain = (*it)[2];
    if ((*it)[3].matched) {  // a method call: the last segment is not a field
      chain = chain.substr(0, chain.rfind('.'));
    }
    if (var->first == "self" && rule.path.empty() &&
        (chain == ".metadata.name" || chain == ".metadata.generateName")) {
      continue;  // the root may read these two metadata fields
    }
    if (follow(var->second, chain) == nullptr) {
      unknown.push_back(std::string((*it)[1]) + chain);
    }
  }
  return unknown;
}

TEST(CrdTest, CelRulesHaveMessagesAndReferToSchemaFields) {
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.file);
    const Json schema = schemaOf(loadCrd(info));
    auto rules = collectRules(schema);
    EXPECT_FALSE(rules.empty());
    std::set<std::string> messages;
    for (const auto& rule : rules) {
      SCOPED_TRACE(rule.path + ": " + rule.rule);
      EXPECT_FALSE(rule.message.empty());
      EXPECT_TRUE(messages.insert(rule.message).second)
          << "messages are unique within a CRD, so an invalid example names one rule";
      auto unknown = unknownCelFields(schema, rule);
      EXPECT_TRUE(unknown.empty()) << joinLines(unknown);
    }
  }
}

TEST(CrdTest, CelFieldCheckCatchesATypo) {
  const Json schema = Json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"items":{"type":"array","items":{"type":"object",
      "properties":{"weight":{"type":"integer"}}}}}}}})");
  EXPECT_TRUE(
      unknownCelFields(schema, {"spec", "self.items.exists(b, b.weight > 0)", "m"}).empty());
  EXPECT_EQ(unknownCelFields(schema, {"spec", "self.items.exists(b, b.wieght > 0)", "m"}),
            std::vector<std::string>{"b.wieght"});
  EXPECT_EQ(unknownCelFields(schema, {"spec", "has(self.itemz)", "m"}),
            std::vector<std::string>{"self.itemz"});
}

TEST(ExamplesTest, EachKindHasACommentedExampleThatValidates) {
  for (const auto& [kind, file] : kExamples) {
    SCOPED_TRACE(file);
    const fs::path path = sourceDir() / "examples" / file;
    auto text = readFile(path.string());
    ASSERT_TRUE(text.ok()) << text.error().describe();
    EXPECT_GE(std::count(text->begin(), text->end(), '#'), 5) << "examples explain themselves";
    auto docs = loadAll(path);
    ASSERT_FALSE(docs.empty());
    bool sawKind = false;
    for (const auto& doc : docs) {
      sawKind = sawKind || stringAt(doc, "/kind") == kind;
      auto errors = validateResource(doc);
      EXPECT_TRUE(errors.empty()) << nameOf(doc) << joinLines(errors);
    }
    EXPECT_TRUE(sawKind) << "no " << kind << " in " << file;
  }
}

// The demo's resources (examples/demo/, owned by the operator's author) must be accepted too.
TEST(ExamplesTest, DemoResourcesValidate) {
  for (const auto& path : yamlFiles(sourceDir() / "examples" / "demo")) {
    for (const auto& doc : loadAll(path)) {
      const std::string apiVersion = stringAt(doc, "/apiVersion");
      if (apiVersion.rfind("weft.io/", 0) != 0) {
        continue;
      }
      auto errors = validateResource(doc);
      EXPECT_TRUE(errors.empty()) << path << " " << nameOf(doc) << joinLines(errors);
    }
  }
}

struct InvalidExample {
  fs::path path;
  std::string check;   // "schema" or "cel"
  std::string expect;  // a schema error (substring) or a CEL rule's message (exact)
  Json doc;
};

std::vector<InvalidExample> loadInvalidExamples() {
  std::vector<InvalidExample> out;
  static const std::regex kHeader(R"(^# (check|expect): (.*)$)");
  for (const auto& path : yamlFiles(sourceDir() / "tests" / "crds" / "invalid")) {
    InvalidExample ex;
    ex.path = path;
    auto text = readFile(path.string());
    EXPECT_TRUE(text.ok());
    if (!text.ok()) {
      continue;
    }
    std::size_t start = 0;
    while (start < text->size()) {
      std::size_t end = text->find('\n', start);
      std::string line = text->substr(start, end == std::string::npos ? end : end - start);
      std::smatch m;
      if (std::regex_match(line, m, kHeader)) {
        (m[1] == "check" ? ex.check : ex.expect) = m[2];
      }
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
    auto docs = loadAll(path);
    EXPECT_EQ(docs.size(), 1u) << path << ": one resource per invalid example";
    if (!docs.empty()) {
      ex.doc = docs.front();
    }
    out.push_back(std::move(ex));
  }
  return out;
}

TEST(InvalidExamplesTest, SchemaViolationsAreRefusedWithTheExpectedError) {
  int count = 0;
  for (const auto& ex : loadInvalidExamples()) {
    if (ex.check != "schema") {
      continue;
    }
    ++count;
    SCOPED_TRACE(ex.path.filename().string());
    ASSERT_FALSE(ex.expect.empty()) << "names the error it expects";
    auto errors = validateResource(ex.doc);
    // Exactly one error, so that each example tests one thing.
    ASSERT_EQ(errors.size(), 1u) << joinLines(errors);
    EXPECT_NE(errors.front().find(ex.expect), std::string::npos)
        << "got: " << errors.front() << "\nexpected: " << ex.expect;
  }
  EXPECT_GE(count, 10);
}

TEST(InvalidExamplesTest, EveryCelRuleIsExercisedByAnExampleThatPassesTheSchema) {
  std::map<std::string, std::set<std::string>> exercised;  // kind -> messages
  for (const auto& ex : loadInvalidExamples()) {
    SCOPED_TRACE(ex.path.filename().string());
    EXPECT_TRUE(ex.check == "schema" || ex.check == "cel") << "# check: schema|cel";
    if (ex.check != "cel") {
      continue;
    }
    const std::string kind = stringAt(ex.doc, "/kind");
    // Only the CEL rule may stand between this example and the API server.
    auto errors = validateResource(ex.doc);
    EXPECT_TRUE(errors.empty()) << joinLines(errors);
    std::set<std::string> messages;
    for (const auto& rule : collectRules(schemaOfKind(kind))) {
      messages.insert(rule.message);
    }
    EXPECT_TRUE(messages.count(ex.expect)) << "no " << kind << " rule says: " << ex.expect;
    exercised[kind].insert(ex.expect);
  }
  for (const auto& info : kCrds) {
    for (const auto& rule : collectRules(schemaOfKind(info.kind))) {
      EXPECT_TRUE(exercised[info.kind].count(rule.message))
          << info.kind << " rule at " << rule.path << " has no invalid example: " << rule.message;
    }
  }
}

TEST(DocsTest, ResourcesMdDescribesEveryField) {
  auto text = readFile((sourceDir() / "docs" / "resources.md").string());
  ASSERT_TRUE(text.ok()) << text.error().describe();
  for (const auto& info : kCrds) {
    SCOPED_TRACE(info.kind);
    EXPECT_NE(text->find("## " + info.kind), std::string::npos);
    for (const auto& path : fieldPaths(schemaOf(loadCrd(info)))) {
      if (path.rfind("spec.", 0) != 0) {
        continue;
      }
      EXPECT_NE(text->find("`" + path + "`"), std::string::npos) << path;
    }
    for (const auto& rule : collectRules(schemaOf(loadCrd(info)))) {
      EXPECT_NE(text->find(rule.message), std::string::npos) << rule.message;
    }
  }
}

}  // namespace
}  // namespace weft::test::crds
