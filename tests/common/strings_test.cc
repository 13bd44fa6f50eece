#include "common/strings.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(StringsTest, TrimOwsKeepsOtherWhitespace) {
  EXPECT_EQ(trimOws(" \t a b \t"), "a b");
  EXPECT_EQ(trimOws("\r\na\n"), "\r\na\n");
  EXPECT_EQ(trimOws("   "), "");
  EXPECT_EQ(trimOws(""), "");
}

TEST(StringsTest, TrimSpaceStripsAllAsciiWhitespace) {
  EXPECT_EQ(trimSpace("\n\t a \r\n\v\f"), "a");
  EXPECT_EQ(trimSpace("a"), "a");
}

TEST(StringsTest, Tokens) {
  EXPECT_TRUE(isToken("chunked"));
  EXPECT_TRUE(isToken("X-Custom_1.!#$%&'*+^`|~"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("gzip;q=1"));
  EXPECT_FALSE(isToken("chun\xffked"));
}

TEST(StringsTest, HexDigits) {
  EXPECT_EQ(hexDigitValue('0'), 0);
  EXPECT_EQ(hexDigitValue('9'), 9);
  EXPECT_EQ(hexDigitValue('a'), 10);
  EXPECT_EQ(hexDigitValue('F'), 15);
  EXPECT_EQ(hexDigitValue('g'), -1);
  EXPECT_EQ(hexDigitValue('%'), -1);
}

TEST(StringsTest, PercentEncodeKeepsUnreservedAndExtras) {
  EXPECT_EQ(percentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(percentEncode("ns/name=x y"), "ns%2Fname%3Dx%20y");
  EXPECT_EQ(percentEncode("host:80/p", ":/"), "host:80/p");
  EXPECT_EQ(percentEncode("\xff"), "%FF");
}

TEST(StringsTest, Base64RoundTripsAndRejectsJunk) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  EXPECT_EQ(*base64Decode(base64Encode(bytes)), bytes);
  EXPECT_EQ(*base64Decode("Zm9v\nYmFy"), "foobar");
  EXPECT_FALSE(base64Decode("Zm9v!").ok());
}

}  // namespace
}  // namespace weft
