#include "common/file.h"

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

namespace weft {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weft-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileTest, WritesAtomicallyAndReadsBack) {
  std::string path = dir_ + "/config.yaml";
  ASSERT_TRUE(writeFileAtomic(path, "a: 1\n"));
  EXPECT_EQ(readFile(path).value(), "a: 1\n");
  ASSERT_TRUE(writeFileAtomic(path, "a: 2\n"));
  EXPECT_EQ(readFile(path).value(), "a: 2\n");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(FileTest, MissingFileIsNotFound) {
  auto r = readFile(dir_ + "/absent");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("absent"), std::string::npos);
}

TEST_F(FileTest, RefusesDirectoriesAndOversizedFiles) {
  EXPECT_EQ(readFile(dir_).error().code, ErrorCode::kInvalidArgument);
  std::string path = dir_ + "/big";
  ASSERT_TRUE(writeFileAtomic(path, std::string(100, 'x')));
  EXPECT_FALSE(readFile(path, 99));
  EXPECT_TRUE(readFile(path, 100));
}

TEST_F(FileTest, WriteIntoMissingDirectoryFails) {
  EXPECT_FALSE(writeFileAtomic(dir_ + "/no/such/dir/file", "x"));
}

}  // namespace
}  // namespace weft
