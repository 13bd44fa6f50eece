// Every binary answers --help and --version, and refuses a bad flag with one
// clear line and a non-zero exit.
#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "weft/version.h"

namespace weft {
namespace {

using testing::runProcess;

struct Binary {
  const char* name;
  const char* path;
};

void PrintTo(const Binary& b, std::ostream* os) { *os << b.name; }

std::string testName(const ::testing::TestParamInfo<Binary>& p) {
  std::string n = p.param.name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

class BinariesTest : public ::testing::TestWithParam<Binary> {};

TEST_P(BinariesTest, HelpListsCommonFlags) {
  auto r = runProcess({GetParam().path, "--help"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("--log-level"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--log-format"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--version"), std::string::npos) << r.out;
}

TEST_P(BinariesTest, VersionPrintsNameAndVersion) {
  auto r = runProcess({GetParam().path, "--version"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, std::string(GetParam().name) + " " + kVersion + "\n");
}

TEST_P(BinariesTest, BadFlagIsRefusedWithOneLine) {
  auto r = runProcess({GetParam().path, "--no-such-flag"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(r.err.rfind(std::string(GetParam().name) + ": error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_P(BinariesTest, BadLogLevelIsRefused) {
  auto r = runProcess({GetParam().path, "--log-level", "chatty", "--help"});
  // --help wins when given; without it the level is checked.
  EXPECT_EQ(r.exitCode, 0);
  r = runProcess({GetParam().path, "--log-level", "chatty"});
  EXPECT_EQ(r.exitCode, 2) << r.out;
  EXPECT_NE(r.err.find("unknown log level 'chatty'"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(All, BinariesTest,
                         ::testing::Values(Binary{"weft-proxy", WEFT_PROXY_BIN},
                                           Binary{"weft-operator", WEFT_OPERATOR_BIN},
                                           Binary{"weft-injector", WEFT_INJECTOR_BIN},
                                           Binary{"weftctl", WEFTCTL_BIN}),
                         testName);

}  // namespace
}  // namespace weft
