#include "common/flags/flags.h"

#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace weft::flags {
namespace {

struct Parsed {
  std::optional<int> code;
  std::string out;
  std::string err;
  int port = 0;
};

Parsed parseArgs(std::vector<const char*> args) {
  CLI::App app{"test binary", "weft-test"};
  CommonFlags common;
  addCommonFlags(app, common);
  Parsed p;
  app.add_option("--port", p.port)->check(CLI::Range(1, 65535));
  args.insert(args.begin(), "weft-test");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  p.code = parse(app, static_cast<int>(args.size()), args.data(), common);
  p.out = testing::internal::GetCapturedStdout();
  p.err = testing::internal::GetCapturedStderr();
  return p;
}

TEST(FlagsTest, HelpAndVersionExitZero) {
  auto help = parseArgs({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--log-level"), std::string::npos);
  EXPECT_NE(help.out.find("--port"), std::string::npos);
  auto version = parseArgs({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("weft-test ", 0), 0u) << version.out;
}

TEST(FlagsTest, UnknownFlagIsOneClearLineAndExitTwo) {
  auto p = parseArgs({"--nope"});
  EXPECT_EQ(p.code, 2);
  EXPECT_EQ(p.err.rfind("weft-test: error: ", 0), 0u) << p.err;
  EXPECT_NE(p.err.find("--nope"), std::string::npos) << p.err;
  EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
}

TEST(FlagsTest, ValidatorsAndLogFlagsAreChecked) {
  EXPECT_EQ(parseArgs({"--port", "70000"}).code, 2);
  EXPECT_EQ(parseArgs({"--port", "abc"}).code, 2);
  auto badLevel = parseArgs({"--log-level", "loud"});
  EXPECT_EQ(badLevel.code, 2);
  EXPECT_NE(badLevel.err.find("--log-level"), std::string::npos);
  EXPECT_EQ(parseArgs({"--log-format", "xml"}).code, 2);
}

TEST(FlagsTest, GoodFlagsContinue) {
  auto p = parseArgs({"--port", "8080", "--log-level", "error", "--log-format", "json"});
  EXPECT_EQ(p.code, std::nullopt) << p.err;
  EXPECT_EQ(p.port, 8080);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::err);
}

}  // namespace
}  // namespace weft::flags
