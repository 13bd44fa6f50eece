#include "common/json/json.h"

#include <gtest/gtest.h>

namespace weft::json {
namespace {

TEST(JsonTest, ParsesValidDocument) {
  auto doc = parse(R"({"spec":{"mtls":{"mode":"STRICT"},"port":8080,"on":true}})");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(getString(*doc, "/spec/mtls/mode").value(), "STRICT");
  EXPECT_EQ(getInt(*doc, "/spec/port").value(), 8080);
  EXPECT_EQ(getBool(*doc, "/spec/on").value(), true);
}

TEST(JsonTest, ParseErrorNamesTheByte) {
  auto doc = parse(R"({"a": 1,})");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, ErrorCode::kParse);
  EXPECT_NE(doc.error().message.find("at byte 9"), std::string::npos) << doc.error().message;
}

TEST(JsonTest, RefusesTruncatedAndEmptyInput) {
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("{\"a\":"));
  EXPECT_FALSE(parse("[1,2"));
}

TEST(JsonTest, WrongTypeNamesThePointer) {
  auto doc = parse(R"({"spec":{"port":"eighty"}})").value();
  auto port = getInt(doc, "/spec/port");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(port.error().message, "/spec/port: expected an integer, got string");
}

TEST(JsonTest, MissingMemberIsNotFoundAndFallbackApplies) {
  auto doc = parse(R"({"spec":{}})").value();
  EXPECT_EQ(getString(doc, "/spec/mode").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(getStringOr(doc, "/spec/mode", "PERMISSIVE").value(), "PERMISSIVE");
  EXPECT_EQ(getIntOr(doc, "/spec/port", 80).value(), 80);
  EXPECT_EQ(getBoolOr(doc, "/spec/on", false).value(), false);
  // A fallback never hides a wrong type.
  auto typed = parse(R"({"spec":{"port":true}})").value();
  EXPECT_FALSE(getIntOr(typed, "/spec/port", 80));
}

TEST(JsonTest, LargeUnsignedIsRefusedAsInt) {
  auto doc = parse(R"({"n":18446744073709551615})").value();
  EXPECT_FALSE(getInt(doc, "/n"));
  EXPECT_DOUBLE_EQ(getNumber(doc, "/n").value(), 18446744073709551615.0);
}

TEST(JsonTest, ObjectsAndArrays) {
  auto doc = parse(R"({"items":[{"name":"a"},{"name":"b"}],"meta":{"k":"v"}})").value();
  auto items = getArray(doc, "/items");
  ASSERT_TRUE(items);
  EXPECT_EQ(items->size(), 2u);
  EXPECT_EQ(getString(doc, "/items/1/name").value(), "b");
  EXPECT_TRUE(getObject(doc, "/meta"));
  EXPECT_FALSE(getObject(doc, "/items"));
  EXPECT_FALSE(getArray(doc, "/meta"));
}

TEST(JsonTest, BadPointerIsAnErrorNotACrash) {
  auto doc = parse(R"({"items":[1]})").value();
  EXPECT_FALSE(getInt(doc, "items"));     // no leading slash
  EXPECT_FALSE(getInt(doc, "/items/x"));  // non-numeric array index
}

TEST(JsonTest, DumpReplacesInvalidUtf8) {
  Json v = std::string(
      "a\xff"
      "b");
  EXPECT_EQ(dump(v),
            "\"a\xEF\xBF\xBD"
            "b\"");
}

}  // namespace
}  // namespace weft::json
