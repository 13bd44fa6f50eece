// Tests for loading config files: YAML and JSON, all-or-nothing, precise errors.
#include "proxy/src/config/loader.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "common/file.h"

namespace weft::proxy::config {
namespace {

constexpr const char* kTwoDocs = R"(# a comment
kind: Outbound
authority: backend.demo:8080
aliases: [backend:8080]
backends:
  backend.demo:8080:
    endpoints: [{address: 127.0.0.1:18080}, {address: "[::1]:18080", weight: 2}]
---
kind: Inbound
pod: demo/web-0
ports: [{port: 8080}]
---
kind: Outbound
authority: db.demo:5432
protocol: tcp
)";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/weft-config-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    EXPECT_TRUE(writeFileAtomic(p, content));
    return p;
  }

 private:
  std::string path_;
};

TEST(LoaderTest, LoadsMultiDocumentYaml) {
  TempDir dir;
  auto s = loadFile(dir.file("proxy.yaml", kTwoDocs));
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ((*s)->outbounds().size(), 2u);
  const api::Outbound* b = (*s)->findOutbound("backend:8080");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->backends.at("backend.demo:8080").endpoints.at(1).weight, 2);
  ASSERT_NE((*s)->findOutbound("db.demo:5432"), nullptr);
  EXPECT_EQ((*s)->findOutbound("db.demo:5432")->protocol, api::Protocol::kTcp);
  ASSERT_NE((*s)->inbound(), nullptr);
  EXPECT_EQ((*s)->inbound()->pod, "demo/web-0");
  EXPECT_EQ((*s)->version().rfind("file:", 0), 0u);
}

TEST(LoaderTest, LoadsJsonObjectsAndArrays) {
  TempDir dir;
  auto one = loadFile(dir.file("one.json", R"({"kind": "Outbound", "authority": "a:80"})"));
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ((*one)->outbounds().size(), 1u);
  auto many = loadFile(dir.file("many.json", R"([{"kind": "Outbound", "authority": "a:80"},
                                                 {"kind": "Inbound", "pod": "ns/p"}])"));
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_NE((*many)->inbound(), nullptr);
  auto bad = loadFile(dir.file("bad.json", R"({"kind": "Outbound", "authority": )"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.json: invalid JSON at byte"), std::string::npos)
      << bad.error().message;
}

TEST(LoaderTest, EmptyFileIsAnEmptyConfiguration) {
  auto s = loadText("", "empty.yaml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE((*s)->outbounds().empty());
  EXPECT_EQ((*s)->inbound(), nullptr);
}

TEST(LoaderTest, VersionFollowsContent) {
  auto a = loadText("kind: Outbound\nauthority: a:80\n", "f");
  auto b = loadText("kind: Outbound\nauthority: a:80\n", "f");
  auto c = loadText("kind: Outbound\nauthority: a:81\n", "f");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ((*a)->version(), (*b)->version());
  EXPECT_NE((*a)->version(), (*c)->version());
}

TEST(LoaderTest, RefusesTheWholeFileWithOnePreciseError) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {std::string(kTwoDocs) + "---\nkind: Outbound\nauthority: x:1\npolicy: {retries: "
                               "{attempts: 0}}\n",
       "proxy.yaml: document 4: Outbound x:1: /policy/retries/attempts: expected an integer in "
       "1..100, got 0"},
      {"kind: Outbound\nauthority: a:80\n---\nauthority: b:80\n",
       "proxy.yaml: document 2: /kind: required (Outbound or Inbound)"},
      {"kind: Service\n",
       "proxy.yaml: document 1: /kind: expected Outbound or Inbound, got "
       "\"Service\""},
      {"kind: Outbound\nauthority: a:80\nbogus: 1\n",
       "proxy.yaml: document 1: Outbound a:80: /bogus: unknown field"},
      {"kind: Inbound\npod: a/b\n---\nkind: Inbound\npod: a/c\n",
       "proxy.yaml: document 2: Inbound a/c: a second Inbound (document 1 is the first); a proxy "
       "serves one pod"},
      {"kind: Outbound\nauthority: a:80\n---\nkind: Outbound\nauthority: A:80\n",
       "proxy.yaml: document 2: Outbound a:80: /authority: a:80 is already claimed by document "
       "1"},
      {"kind: Outbound\nauthority: a:80\naliases: [x:1]\n---\nkind: Outbound\nauthority: "
       "b:80\naliases: [y:1, x:1]\n",
       "proxy.yaml: document 2: Outbound b:80: /aliases/1: x:1 is already claimed by document 1"},
      {"kind: Outbound\nauthority: [a\n", ""},  // YAML syntax: checked by prefix below
  };
  for (const auto& c : cases) {
    auto s = loadText(c.text, "proxy.yaml");
    ASSERT_FALSE(s) << c.text;
    if (c.message.empty()) {
      EXPECT_EQ(s.error().message.rfind("proxy.yaml: line ", 0), 0u) << s.error().message;
      continue;
    }
    EXPECT_EQ(s.error().message, c.message);
  }
}

TEST(LoaderTest, ReportsUnreadableFiles) {
  auto missing = loadFile("/nonexistent/weft/proxy.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent/weft/proxy.yaml"), std::string::npos);
}

}  // namespace
}  // namespace weft::proxy::config
