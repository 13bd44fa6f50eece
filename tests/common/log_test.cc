#include "common/log/log.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "common/json/json.h"

namespace weft::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("WEFT_LOG_LEVEL");
    unsetenv("WEFT_LOG_FORMAT");
  }
  void TearDown() override { ASSERT_TRUE(setup(Options{})); }
};

TEST_F(LogTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(parseLevel("debug").value(), spdlog::level::debug);
  EXPECT_EQ(parseLevel("warn").value(), spdlog::level::warn);
  EXPECT_EQ(parseLevel("off").value(), spdlog::level::off);
  auto bad = parseLevel("verbose");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown log level 'verbose'"), std::string::npos);
  EXPECT_EQ(parseFormat("json").value(), Format::kJson);
  EXPECT_FALSE(parseFormat("xml"));
}

TEST_F(LogTest, FlagsWinOverEnvironmentWhichWinsOverDefaults) {
  EXPECT_EQ(resolveOptions("", "").value().level, "info");
  setenv("WEFT_LOG_LEVEL", "debug", 1);
  setenv("WEFT_LOG_FORMAT", "json", 1);
  auto fromEnv = resolveOptions("", "").value();
  EXPECT_EQ(fromEnv.level, "debug");
  EXPECT_EQ(fromEnv.format, Format::kJson);
  auto fromFlag = resolveOptions("error", "plain").value();
  EXPECT_EQ(fromFlag.level, "error");
  EXPECT_EQ(fromFlag.format, Format::kPlain);
}

TEST_F(LogTest, BadEnvironmentIsNamedInTheError) {
  setenv("WEFT_LOG_LEVEL", "loud", 1);
  auto r = resolveOptions("", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("WEFT_LOG_LEVEL: ", 0), 0u) << r.error().message;
  auto flag = resolveOptions("loud", "");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message.rfind("--log-level: ", 0), 0u);
}

TEST_F(LogTest, JsonLinesAreValidJsonWithEscaping) {
  std::string line =
      formatJson("proxy.http", spdlog::level::warn, "bad \"header\"\n\x01 here",
                 std::chrono::system_clock::time_point{std::chrono::milliseconds(1500)});
  auto parsed = json::parse(line);
  ASSERT_TRUE(parsed) << line;
  EXPECT_EQ((*parsed)["ts"], "1970-01-01T00:00:01.500Z");
  EXPECT_EQ((*parsed)["level"], "warning");
  EXPECT_EQ((*parsed)["logger"], "proxy.http");
  EXPECT_EQ((*parsed)["msg"], "bad \"header\"\n\x01 here");
}

TEST_F(LogTest, SetupAppliesFormatAndLevelToComponentLoggers) {
  auto logger = get("test.component");
  EXPECT_EQ(logger, get("test.component"));  // shared, not recreated

  ASSERT_TRUE(setup(Options{"warn", Format::kJson}));
  testing::internal::CaptureStderr();
  logger->info("hidden");
  logger->warn("shown {}", 42);
  logger->flush();
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  auto parsed = json::parse(out.substr(0, out.find('\n')));
  ASSERT_TRUE(parsed) << out;
  EXPECT_EQ((*parsed)["msg"], "shown 42");
  EXPECT_EQ((*parsed)["logger"], "test.component");

  ASSERT_TRUE(setup(Options{"debug", Format::kPlain}));
  testing::internal::CaptureStderr();
  logger->debug("plain line");
  logger->flush();
  out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" debug test.component: plain line"), std::string::npos) << out;
}

TEST_F(LogTest, SetupRefusesBadLevel) { EXPECT_FALSE(setup(Options{"chatty", Format::kPlain})); }

}  // namespace
}  // namespace weft::log
