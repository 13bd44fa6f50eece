// The system CommandRunner: real child processes, stdin, exit codes, deadline.
#include "proxy/src/init/command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::proxy::init {
namespace {

using ::testing::HasSubstr;

TEST(SystemRunner, FeedsStdinAndCapturesOutput) {
  auto runner = makeSystemRunner();
  // Larger than a pipe buffer both ways, so a naive write-then-read would deadlock.
  std::string input(300000, 'x');
  input += "\nend\n";
  auto r = runner->run({"sh", "-c", "cat; echo oops >&2; exit 3"}, input);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exitCode, 3);
  EXPECT_EQ(r->out, input);
  EXPECT_EQ(r->err, "oops\n");
}

TEST(SystemRunner, FindsProgramsAndReportsMissingOnes) {
  auto runner = makeSystemRunner();
  EXPECT_TRUE(runner->available("sh"));
  EXPECT_FALSE(runner->available("weft-no-such-program"));
  auto r = runner->run({"weft-no-such-program"}, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message, HasSubstr("weft-no-such-program: not found"));
}

TEST(SystemRunner, ChildThatIgnoresStdinDoesNotHurtUs) {
  auto runner = makeSystemRunner();
  auto r = runner->run({"true"}, std::string(1 << 20, 'y'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exitCode, 0);
}

TEST(SystemRunner, KillsARunPastItsDeadline) {
  auto runner = makeSystemRunner(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  auto r = runner->run({"sleep", "10"}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exitCode, -1);
  EXPECT_THAT(r->err, HasSubstr("killed after 200 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace weft::proxy::init
