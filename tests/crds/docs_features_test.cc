// The YAML of docs/features/*.md: every ```yaml block parses, and every weft.io
// resource in one passes its CRD's schema (cel_check.mjs runs the CEL rules on
// the same blocks), so the feature pages cannot drift from crds/.
#include <filesystem>
#include <map>
#include <optional>
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

fs::path sourceDir() { return fs::path(WEFT_SOURCE_DIR); }

// The pages and whether each must show at least one Weft resource.
const std::map<std::string, bool> kPages = {
    {"traffic-splitting.md", true}, {"retries-and-timeouts.md", true},
    {"circuit-breaking.md", true},  {"mtls.md", true},
    {"authorization.md", true},     {"observability.md", false},
};

struct Block {
  int line = 0;  // of the opening fence
  std::string text;
};

std::vector<Block> yamlBlocks(const std::string& markdown) {
  std::vector<Block> out;
  std::optional<Block> open;
  int number = 0;
  std::size_t start = 0;
  while (start <= markdown.size()) {
    std::size_t end = markdown.find('\n', start);
    std::string line = markdown.substr(start, end == std::string::npos ? end : end - start);
    ++number;
    if (open && line == "```") {
      out.push_back(*open);
      open.reset();
    } else if (open) {
      open->text += line + "\n";
    } else if (line == "```yaml") {
      open = Block{number, ""};
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  EXPECT_FALSE(open) << "a ```yaml block opened at line " << open->line << " is never closed";
  return out;
}

std::map<std::string, Json> schemasByKind() {
  std::map<std::string, Json> out;
  for (const auto& entry : fs::directory_iterator(sourceDir() / "crds")) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    auto text = readFile(entry.path().string());
    auto docs = text.ok() ? yaml::parseAll(*text) : Result<std::vector<Json>>(text.error());
    if (!docs.ok() || docs->size() != 1) {
      ADD_FAILURE() << entry.path() << " does not hold one CRD";
      continue;
    }
    const Json& crd = docs->front();
    out[crd["spec"]["names"].value("kind", "")] =
        crd.at(Json::json_pointer("/spec/versions/0/schema/openAPIV3Schema"));
  }
  return out;
}

TEST(DocsFeaturesTest, EveryYamlBlockParsesAndItsWeftResourcesValidate) {
  const auto schemas = schemasByKind();
  ASSERT_EQ(schemas.size(), 4u);
  std::set<std::string> seen;
  for (const auto& entry : fs::directory_iterator(sourceDir() / "docs" / "features")) {
    seen.insert(entry.path().filename().string());
  }
  for (const auto& [page, needsResource] : kPages) {
    SCOPED_TRACE("docs/features/" + page);
    EXPECT_TRUE(seen.count(page)) << "missing page";
    auto text = readFile((sourceDir() / "docs" / "features" / page).string());
    ASSERT_TRUE(text.ok()) << text.error().describe();
    int resources = 0;
    for (const auto& block : yamlBlocks(*text)) {
      SCOPED_TRACE("the ```yaml block at line " + std::to_string(block.line));
      auto docs = yaml::parseAll(block.text);
      ASSERT_TRUE(docs.ok()) << docs.error().describe();
      for (const auto& doc : *docs) {
        const std::string apiVersion = doc.value("apiVersion", "");
        if (apiVersion.rfind("weft.io/", 0) != 0) {
          continue;
        }
        ++resources;
        EXPECT_EQ(apiVersion, "weft.io/v1alpha1");
        auto schema = schemas.find(doc.value("kind", ""));
        ASSERT_NE(schema, schemas.end()) << "unknown kind " << doc.value("kind", "");
        Json value = doc;
        applyDefaults(schema->second, value);
        for (const auto& v : validate(schema->second, value)) {
          ADD_FAILURE() << doc.value("kind", "") << ": " << v.describe();
        }
      }
    }
    if (needsResource) {
      EXPECT_GT(resources, 0) << "a feature page shows the YAML that turns it on";
    }
  }
  for (const auto& page : seen) {
    EXPECT_TRUE(kPages.count(page)) << "docs/features/" << page << " is not checked here";
  }
}

TEST(DocsFeaturesTest, TheDocsIndexLinksEveryPage) {
  auto index = readFile((sourceDir() / "docs" / "README.md").string());
  ASSERT_TRUE(index.ok());
  for (const auto& [page, unused] : kPages) {
    EXPECT_NE(index->find("(features/" + page + ")"), std::string::npos) << page;
  }
  EXPECT_NE(index->find("(how-it-works.md)"), std::string::npos);
}

TEST(DocsFeaturesTest, BlocksAreFoundAndABrokenResourceIsCaught) {
  auto blocks = yamlBlocks("text\n```yaml\na: 1\n```\n```sh\nls\n```\n```yaml\nb: 2\n```\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].line, 2);
  EXPECT_EQ(blocks[1].text, "b: 2\n");
  const auto schemas = schemasByKind();
  Json route = Json::parse(R"({"apiVersion":"weft.io/v1alpha1","kind":"TrafficRoute",
      "metadata":{"name":"r","namespace":"demo"},
      "spec":{"parentRefs":[{"name":"backend"}],"rules":[{"backendRefs":[{"name":"v1"}]}]}})");
  const Json& schema = schemas.at("TrafficRoute");
  applyDefaults(schema, route);
  auto violations = validate(schema, route);
  ASSERT_EQ(violations.size(), 1u) << "a backendRef without its port";
  EXPECT_NE(violations.front().describe().find("port"), std::string::npos);
}

}  // namespace
}  // namespace weft::test::crds
