// Tests for header validation and the set/add/remove applicator.
#include "proxy/src/route/headers.h"

#include <gtest/gtest.h>

#include "tests/proxy/route/fake_header_map.h"

namespace weft::proxy::route {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(HeaderSyntaxTest, NamesAndValues) {
  EXPECT_TRUE(isValidHeaderName("X-Request-Id"));
  EXPECT_TRUE(isValidHeaderName("a!#$%&'*+-.^_`|~9"));
  EXPECT_FALSE(isValidHeaderName(""));
  EXPECT_FALSE(isValidHeaderName("x y"));
  EXPECT_FALSE(isValidHeaderName("x:y"));
  EXPECT_FALSE(isValidHeaderName("x\r\n"));
  EXPECT_FALSE(isValidHeaderName(":authority"));
  EXPECT_TRUE(isValidHeaderValue(""));
  EXPECT_TRUE(isValidHeaderValue("a b\tc"));
  EXPECT_FALSE(isValidHeaderValue("a\r\nx-evil: 1"));
  EXPECT_FALSE(isValidHeaderValue("a\nb"));
  EXPECT_FALSE(isValidHeaderValue(std::string_view("a\0b", 3)));
  EXPECT_TRUE(isProtectedHeader("Transfer-Encoding"));
  EXPECT_TRUE(isProtectedHeader("content-length"));
  EXPECT_TRUE(isProtectedHeader("CONNECTION"));
  EXPECT_FALSE(isProtectedHeader("host"));
  EXPECT_FALSE(isProtectedHeader("content-type"));
}

TEST(HeaderModifierTest, RemoveThenSetThenAdd) {
  HeaderModifierSettings settings;
  settings.set = {{"X-A", "b"}};
  settings.add = {{"x-c", "d"}, {"X-Remove-Me", "new"}};
  settings.remove = {"x-remove-me"};
  auto modifier = HeaderModifier::create(settings);
  ASSERT_TRUE(modifier.ok()) << modifier.error().message;
  FakeHeaderMap headers{{"x-a", "old1"},
                        {"Host", "svc"},
                        {"x-a", "old2"},
                        {"X-C", "existing"},
                        {"x-remove-me", "gone"}};
  modifier->apply(headers);
  EXPECT_EQ(headers.fields(), (Fields{{"Host", "svc"},
                                      {"X-C", "existing"},
                                      {"X-A", "b"},
                                      {"x-c", "d"},
                                      {"X-Remove-Me", "new"}}));
  EXPECT_FALSE(modifier->empty());
  EXPECT_TRUE(HeaderModifier().empty());
}

TEST(HeaderModifierTest, EmptyModifierChangesNothing) {
  auto modifier = HeaderModifier::create({});
  ASSERT_TRUE(modifier.ok());
  FakeHeaderMap headers{{"a", "1"}};
  modifier->apply(headers);
  EXPECT_EQ(headers.fields(), (Fields{{"a", "1"}}));
}

TEST(HeaderModifierTest, RefusesFramingHeadersBadSyntaxAndDuplicates) {
  const auto refused = [](HeaderModifierSettings s, const std::string& needle) {
    auto m = HeaderModifier::create(std::move(s));
    ASSERT_FALSE(m.ok()) << "accepted; expected error with " << needle;
    EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(m.error().message.find(needle), std::string::npos) << m.error().message;
  };
  refused({{{"Content-Length", "0"}}, {}, {}}, "Content-Length");
  refused({{}, {{"transfer-encoding", "chunked"}}, {}}, "transfer-encoding");
  refused({{}, {}, {"Connection"}}, "Connection");
  refused({{{"bad name", "x"}}, {}, {}}, "bad name");
  refused({{{"x-a", "1\r\nx-b: 2"}}, {}, {}}, "x-a");
  refused({{}, {{"x-a", "1\n"}}, {}}, "x-a");
  refused({{{"x-a", "1"}, {"X-A", "2"}}, {}, {}}, "listed twice");
  refused({{}, {}, {"x-e", "X-E"}}, "listed twice");
  // Adding a header twice is fine: it has two values.
  HeaderModifierSettings twice;
  twice.add = {{"x-a", "1"}, {"x-a", "2"}};
  auto ok = HeaderModifier::create(twice);
  ASSERT_TRUE(ok.ok());
  FakeHeaderMap headers;
  ok->apply(headers);
  EXPECT_EQ(headers.fields(), (Fields{{"x-a", "1"}, {"x-a", "2"}}));
}

TEST(HeaderCaseTest, Helpers) {
  EXPECT_EQ(toLower("X-Mixed-CASE-9"), "x-mixed-case-9");
  EXPECT_TRUE(equalsIgnoreCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(equalsIgnoreCase("a", "ab"));
}

}  // namespace
}  // namespace weft::proxy::route
