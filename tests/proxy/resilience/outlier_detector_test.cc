// Tests for outlier detection: ejection, growing ejection times, probes and the ejection cap.
#include "proxy/src/resilience/outlier_detector.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

using Admission = OutlierDetector::Admission;
using std::chrono::seconds;

class OutlierDetectorTest : public ::testing::Test {
 protected:
  OutlierDetectorTest() { detector_.update(addresses_); }

  void fail(const std::string& address, int times) {
    for (int i = 0; i < times; ++i) {
      detector_.onFailure(address);
    }
  }
  // Lets the ejection of `address` run out and sends its probe.
  void startProbe(const std::string& address) {
    clock_.set(detector_.ejectedUntil(address));
    ASSERT_EQ(detector_.admit(address), Admission::kProbe);
    ASSERT_TRUE(detector_.startProbe(address));
  }

  FakeClock clock_;
  std::vector<std::string> addresses_{"a:1", "b:1", "c:1", "d:1"};
  OutlierDetector detector_{OutlierSettings{}, clock_};  // 5 failures, 30 s, cap 300 s, 50 %
};

TEST_F(OutlierDetectorTest, EjectsAfterConsecutiveFailuresOnly) {
  fail("a:1", 4);
  EXPECT_EQ(detector_.admit("a:1"), Admission::kYes);
  detector_.onSuccess("a:1");  // resets the streak
  fail("a:1", 4);
  EXPECT_FALSE(detector_.isEjected("a:1"));
  fail("a:1", 1);
  EXPECT_TRUE(detector_.isEjected("a:1"));
  EXPECT_EQ(detector_.admit("a:1"), Admission::kNo);
  EXPECT_EQ(detector_.ejectedCount(), 1u);
  EXPECT_EQ(detector_.ejectionsTotal(), 1u);
  EXPECT_EQ(detector_.ejectedUntil("a:1"), clock_.now() + seconds(30));
  EXPECT_EQ(detector_.admit("b:1"), Admission::kYes);
}

TEST_F(OutlierDetectorTest, OneProbeAfterTheEjectionAndSuccessReturnsIt) {
  fail("a:1", 5);
  clock_.advance(seconds(29));
  EXPECT_EQ(detector_.admit("a:1"), Admission::kNo);
  clock_.advance(seconds(1));
  EXPECT_EQ(detector_.admit("a:1"), Admission::kProbe);
  EXPECT_TRUE(detector_.startProbe("a:1"));
  // Only one probe at a time.
  EXPECT_EQ(detector_.admit("a:1"), Admission::kNo);
  EXPECT_FALSE(detector_.startProbe("a:1"));
  detector_.onSuccess("a:1", /*probe=*/true);
  EXPECT_FALSE(detector_.isEjected("a:1"));
  EXPECT_EQ(detector_.admit("a:1"), Admission::kYes);
  EXPECT_EQ(detector_.ejectedCount(), 0u);
}

TEST_F(OutlierDetectorTest, FailedProbesEjectLongerUpToTheCap) {
  fail("a:1", 5);
  auto start = clock_.now();
  EXPECT_EQ(detector_.ejectedUntil("a:1") - start, seconds(30));
  for (int times = 2; times <= 12; ++times) {
    startProbe("a:1");
    start = clock_.now();
    detector_.onFailure("a:1", /*probe=*/true);
    const auto expected = std::min<Clock::Duration>(seconds(30) * times, seconds(300));
    EXPECT_EQ(detector_.ejectedUntil("a:1") - start, expected) << "ejection " << times;
    EXPECT_EQ(detector_.ejectedCount(), 1u);
  }
  EXPECT_EQ(detector_.ejectionsTotal(), 12u);
}

TEST_F(OutlierDetectorTest, CancelledProbeLetsAnotherThrough) {
  fail("a:1", 5);
  startProbe("a:1");
  EXPECT_EQ(detector_.admit("a:1"), Admission::kNo);
  detector_.onProbeCancelled("a:1");
  EXPECT_EQ(detector_.admit("a:1"), Admission::kProbe);
}

TEST_F(OutlierDetectorTest, LateResultsOfOldRequestsDoNotDecide) {
  fail("a:1", 5);
  detector_.onSuccess("a:1");  // sent before the ejection
  EXPECT_TRUE(detector_.isEjected("a:1"));
  startProbe("a:1");
  detector_.onFailure("a:1");  // not the probe
  detector_.onSuccess("a:1");  // not the probe
  EXPECT_TRUE(detector_.isEjected("a:1"));
  EXPECT_EQ(detector_.admit("a:1"), Admission::kNo);  // the probe is still out
  detector_.onSuccess("a:1", true);
  EXPECT_FALSE(detector_.isEjected("a:1"));
}

TEST_F(OutlierDetectorTest, NeverMoreThanMaxEjectionPercent) {
  fail("a:1", 5);
  fail("b:1", 5);
  fail("c:1", 5);  // 3 of 4 would be 75 %
  EXPECT_TRUE(detector_.isEjected("a:1"));
  EXPECT_TRUE(detector_.isEjected("b:1"));
  EXPECT_FALSE(detector_.isEjected("c:1"));
  EXPECT_EQ(detector_.ejectedCount(), 2u);
  // When one comes back, the next failure of c ejects it.
  startProbe("a:1");
  detector_.onSuccess("a:1", true);
  fail("c:1", 1);
  EXPECT_TRUE(detector_.isEjected("c:1"));
  EXPECT_EQ(detector_.ejectedCount(), 2u);
}

TEST(OutlierDetectorCapTest, ShareRoundsDown) {
  FakeClock clock;
  OutlierDetector one({}, clock);
  const std::vector<std::string> single{"a:1"};
  one.update(single);
  for (int i = 0; i < 50; ++i) {
    one.onFailure("a:1");
  }
  EXPECT_FALSE(one.isEjected("a:1"));  // 1 of 1 is over 50 %

  OutlierDetector two({}, clock);
  const std::vector<std::string> pair{"a:1", "b:1"};
  two.update(pair);
  for (int i = 0; i < 5; ++i) {
    two.onFailure("a:1");
    two.onFailure("b:1");
  }
  EXPECT_EQ(two.ejectedCount(), 1u);
}

TEST_F(OutlierDetectorTest, EjectionTimeIsForgivenAfterStayingHealthy) {
  fail("a:1", 5);
  startProbe("a:1");
  detector_.onFailure("a:1", true);  // times 2: 60 s
  startProbe("a:1");
  detector_.onSuccess("a:1", true);
  // Healthy for 30 s: one ejection forgiven, so the next lasts 2 * 30 s.
  clock_.advance(seconds(30));
  fail("a:1", 5);
  EXPECT_EQ(detector_.ejectedUntil("a:1") - clock_.now(), seconds(60));
  startProbe("a:1");
  detector_.onSuccess("a:1", true);
  // Healthy for a long time: back to the base.
  clock_.advance(std::chrono::hours(1));
  fail("a:1", 5);
  EXPECT_EQ(detector_.ejectedUntil("a:1") - clock_.now(), seconds(30));
}

TEST_F(OutlierDetectorTest, UpdateKeepsStateOfRetainedEndpoints) {
  fail("a:1", 5);
  fail("b:1", 3);
  const std::vector<std::string> next{"b:1", "a:1", "e:1", "c:1"};
  detector_.update(next);
  EXPECT_EQ(detector_.size(), 4u);
  EXPECT_TRUE(detector_.isEjected("a:1"));
  fail("b:1", 2);  // the streak of 3 survived the update
  EXPECT_TRUE(detector_.isEjected("b:1"));
  EXPECT_EQ(detector_.admit("e:1"), Admission::kYes);
  const std::vector<std::string> fewer{"e:1", "c:1"};
  detector_.update(fewer);
  EXPECT_EQ(detector_.ejectedCount(), 0u);
  EXPECT_FALSE(detector_.isEjected("a:1"));
  // Results for forgotten endpoints are ignored.
  fail("a:1", 10);
  EXPECT_EQ(detector_.size(), 2u);
  EXPECT_EQ(detector_.admit("a:1"), Admission::kYes);
}

TEST(OutlierDetectorSettingsTest, ZeroFailuresDisablesEjection) {
  FakeClock clock;
  OutlierSettings settings;
  settings.consecutiveFailures = 0;
  OutlierDetector detector(settings, clock);
  const std::vector<std::string> all{"a:1", "b:1", "c:1"};
  detector.update(all);
  for (int i = 0; i < 100; ++i) {
    detector.onFailure("a:1");
  }
  EXPECT_FALSE(detector.isEjected("a:1"));
}

TEST(OutlierDetectorSettingsTest, Validate) {
  EXPECT_TRUE(validate(OutlierSettings{}).ok());
  EXPECT_FALSE(validate(OutlierSettings{5, seconds(0), seconds(300), 50}).ok());
  EXPECT_FALSE(validate(OutlierSettings{5, seconds(30), seconds(10), 50}).ok());
  EXPECT_FALSE(validate(OutlierSettings{5, seconds(30), seconds(300), 101}).ok());
  EXPECT_FALSE(validate(OutlierSettings{5000, seconds(30), seconds(300), 50}).ok());
}

}  // namespace
}  // namespace weft::proxy::resilience
