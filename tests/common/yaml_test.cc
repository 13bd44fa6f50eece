#include "common/yaml/yaml.h"

#include <cmath>

#include <gtest/gtest.h>

namespace weft::yaml {
namespace {

using json::Json;

TEST(YamlTest, ResolvesScalarsByTheCoreSchema) {
  auto doc = parseOne(R"(
str: hello
quoted: "8080"
single: 'true'
int: 8080
neg: -3
hex: 0x1F
oct: 0o17
float: 0.25
exp: 1e3
bool: true
Bool: False
null1: ~
null2:
yes11: yes
version: 1.0.0
)");
  ASSERT_TRUE(doc) << doc.error().message;
  const Json& d = *doc;
  EXPECT_EQ(d["str"], "hello");
  EXPECT_EQ(d["quoted"], "8080");
  EXPECT_EQ(d["single"], "true");
  EXPECT_EQ(d["int"], 8080);
  EXPECT_EQ(d["neg"], -3);
  EXPECT_EQ(d["hex"], 31);
  EXPECT_EQ(d["oct"], 15);
  EXPECT_DOUBLE_EQ(d["float"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(d["exp"].get<double>(), 1000.0);
  EXPECT_EQ(d["bool"], true);
  EXPECT_EQ(d["Bool"], false);
  EXPECT_TRUE(d["null1"].is_null());
  EXPECT_TRUE(d["null2"].is_null());
  EXPECT_EQ(d["yes11"], "yes");  // YAML 1.2: only true/false are booleans
  EXPECT_EQ(d["version"], "1.0.0");
}

TEST(YamlTest, ExplicitTags) {
  auto doc = parseOne("a: !!str 42\nb: !!int \"7\"\nc: !!float 3\n");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["a"], "42");
  EXPECT_EQ((*doc)["b"], 7);
  EXPECT_DOUBLE_EQ((*doc)["c"].get<double>(), 3.0);
  EXPECT_FALSE(parseOne("a: !!int seven\n"));
}

TEST(YamlTest, MultiDocumentStreamsSkipEmptyDocuments) {
  auto docs = parseAll("kind: A\n---\n---\nkind: B\n...\n---\n# only a comment\n");
  ASSERT_TRUE(docs) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0]["kind"], "A");
  EXPECT_EQ((*docs)[1]["kind"], "B");
  EXPECT_FALSE(parseOne("a: 1\n---\nb: 2\n"));
}

TEST(YamlTest, SyntaxErrorsCarryLineAndColumn) {
  auto doc = parseAll("spec:\n  ports: [80, 443\n  name: x\n");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, ErrorCode::kParse);
  EXPECT_NE(doc.error().message.find("line "), std::string::npos) << doc.error().message;
  EXPECT_FALSE(parseAll("a: b: c\n"));
  EXPECT_FALSE(parseAll("\t- tab indented\n"));
}

TEST(YamlTest, DuplicateKeysAreRefused) {
  auto doc = parseOne("metadata:\n  name: a\n  name: b\n");
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("duplicate key 'name'"), std::string::npos);
  EXPECT_NE(doc.error().message.find("line 3"), std::string::npos) << doc.error().message;
}

TEST(YamlTest, AnchorsAndBlockScalars) {
  auto doc = parseOne("base: &b {x: 1}\nuse: *b\ntext: |\n  line one\n  line two\n");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["use"]["x"], 1);
  EXPECT_EQ((*doc)["text"], "line one\nline two\n");
}

TEST(YamlTest, RefusesPathologicalNesting) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_FALSE(parseAll(deep));
}

TEST(YamlTest, DumpRoundTripsEveryType) {
  Json original = {
      {"name", "web"},
      {"port", 8080},
      {"big", 18446744073709551615ull},
      {"ratio", 0.5},
      {"whole", 2.0},
      {"on", true},
      {"nothing", nullptr},
      {"looksInt", "8080"},
      {"looksBool", "true"},
      {"legacyBool", "yes"},
      {"empty", ""},
      {"colon", "a: b"},
      {"multi", "one\ntwo"},
      {"list", {1, "two", {{"three", 3}}}},
      {"emptyList", Json::array()},
      {"emptyMap", Json::object()},
      {"quote\"key", "v"},
  };
  std::string text = dump(original);
  auto back = parseOne(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, original) << text;
  EXPECT_TRUE((*back)["whole"].is_number_float()) << text;
}

TEST(YamlTest, DumpAllSeparatesDocuments) {
  std::string text = dumpAll({Json{{"kind", "A"}}, Json{{"kind", "B"}}});
  EXPECT_EQ(text, "kind: A\n---\nkind: B\n");
  auto back = parseAll(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size(), 2u);
}

}  // namespace
}  // namespace weft::yaml

namespace weft::yaml {
namespace {

TEST(YamlTest, NumberLookalikesStayStrings) {
  auto doc = parseOne(
      "a: .5\nb: 1.\nc: +1\nd: '-'\ne: e5\nf: 1e\ng: 0o8\nh: 0x\ni: 1.2.3\nj: -1e-2\nk: 0xfF\n");
  ASSERT_TRUE(doc) << doc.error().message;
  const auto& d = *doc;
  EXPECT_DOUBLE_EQ(d["a"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(d["b"].get<double>(), 1.0);
  EXPECT_EQ(d["c"], 1);
  EXPECT_EQ(d["d"], "-");
  EXPECT_EQ(d["e"], "e5");
  EXPECT_EQ(d["f"], "1e");
  EXPECT_EQ(d["g"], "0o8");
  EXPECT_EQ(d["h"], "0x");
  EXPECT_EQ(d["i"], "1.2.3");
  EXPECT_DOUBLE_EQ(d["j"].get<double>(), -0.01);
  EXPECT_EQ(d["k"], 255);
}

}  // namespace
}  // namespace weft::yaml
