#include "common/result.h"

#include <memory>

#include <gtest/gtest.h>

namespace weft {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) {
    return makeError(ErrorCode::kInvalidArgument, std::to_string(n) + " is odd");
  }
  return n / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "3 is odd");
  EXPECT_EQ(bad.valueOr(-1), -1);
}

TEST(ResultTest, MovesOnlyTypes) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> owned = std::move(r).value();
  EXPECT_EQ(*owned, 7);
}

TEST(ResultTest, VoidResult) {
  Result<void> good;
  EXPECT_TRUE(good.ok());
  Result<void> bad = makeError(ErrorCode::kTimeout, "slow");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().describe(), "timeout: slow");
}

TEST(ResultTest, ContextPrefixesMessageAndKeepsCode) {
  Error e = makeError(ErrorCode::kParse, "line 3: bad indent").context("mesh.yaml");
  EXPECT_EQ(e.code, ErrorCode::kParse);
  EXPECT_EQ(e.message, "mesh.yaml: line 3: bad indent");
}

TEST(ResultTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    EXPECT_STRNE(toString(static_cast<ErrorCode>(c)), "unknown error") << c;
  }
}

}  // namespace
}  // namespace weft
