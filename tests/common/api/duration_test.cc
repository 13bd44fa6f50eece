// Tests for Go-style duration parsing and formatting.
#include "common/api/duration.h"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesEveryUnitAndCombinations) {
  EXPECT_EQ(*parseDuration("1s"), seconds(1));
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("1m30s"), seconds(90));
  EXPECT_EQ(*parseDuration("2h"), hours(2));
  EXPECT_EQ(*parseDuration("1h2m3s4ms"), hours(1) + minutes(2) + seconds(3) + milliseconds(4));
  EXPECT_EQ(*parseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parseDuration(".5s"), milliseconds(500));
  EXPECT_EQ(*parseDuration("0.001s"), milliseconds(1));
  EXPECT_EQ(*parseDuration("0"), milliseconds(0));
  EXPECT_EQ(*parseDuration("0s"), milliseconds(0));
  EXPECT_EQ(*parseDuration("10000h"), kMaxDuration);
}

TEST(DurationTest, RefusesWhatGoWouldNotOrWeCannotRepresent) {
  for (const char* bad : {"", "1", "s", "1x", "1us", "1ns", "-1s", "+1s", "1.s5", "1.0005s",
                          "1.5ms", "10001h", "99999999999999999999h", "1s 2s", "1 s", ".s"}) {
    auto d = parseDuration(bad);
    EXPECT_FALSE(d) << "accepted \"" << bad << "\"";
  }
  EXPECT_NE(parseDuration("1d").error().message.find("unknown unit \"d\""), std::string::npos);
  EXPECT_NE(parseDuration("1.0005s").error().message.find("finer than 1ms"), std::string::npos);
  EXPECT_NE(parseDuration("20000h").error().message.find("too large"), std::string::npos);
  EXPECT_NE(parseDuration("5").error().message.find("missing unit"), std::string::npos);
}

TEST(DurationTest, FormatsTheShortestFormThatReadsBack) {
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(formatDuration(hours(1) + milliseconds(1)), "1h1ms");
  for (std::int64_t ms : {1LL, 999LL, 1000LL, 59999LL, 3600000LL, 3723004LL, 36000000000LL}) {
    auto back = parseDuration(formatDuration(milliseconds(ms)));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->count(), ms);
  }
}

}  // namespace
}  // namespace weft::api
