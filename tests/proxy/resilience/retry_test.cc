// Tests for retry classification, the `on` parser and per-request retry decisions.
#include "proxy/src/resilience/retry.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace weft::proxy::resilience {
namespace {

using Kind = AttemptOutcome::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

AttemptOutcome response(std::uint16_t status) { return AttemptOutcome{Kind::kResponse, status}; }
AttemptOutcome event(Kind kind) { return AttemptOutcome{kind, 0}; }

RetrySettings withOn(std::vector<std::string> on) {
  RetrySettings settings;
  auto parsed = parseRetryOn(on);
  EXPECT_TRUE(parsed.ok());
  settings.on = *parsed;
  return settings;
}

TEST(RetryOnTest, ParsesEveryCondition) {
  const std::vector<std::string> items{"connect-failure", "reset", "5xx",
                                       "gateway-error",   "429",   "429"};
  auto on = parseRetryOn(items);
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_TRUE(on->reset);
  EXPECT_TRUE(on->serverError);
  EXPECT_TRUE(on->gatewayError);
  EXPECT_EQ(on->statuses, std::vector<std::uint16_t>{429});
}

TEST(RetryOnTest, ConnectFailureAloneRetriesNoStatus) {
  const std::vector<std::string> items{"connect-failure"};
  auto on = parseRetryOn(items);
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->statuses.empty());
  EXPECT_FALSE(on->matchesStatus(503));
}

TEST(RetryOnTest, RefusesUnknownWords) {
  for (const std::string bad : {"", "5XX", "timeout", "600", "99", "50a", "-503", "+503", " 503"}) {
    const std::vector<std::string> items{bad};
    auto on = parseRetryOn(items);
    ASSERT_FALSE(on.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(on.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(on.error().message.find(bad), std::string::npos);
  }
}

TEST(RetryOnTest, MatchesStatusClasses) {
  RetryOn on;
  on.statuses.clear();
  on.gatewayError = true;
  EXPECT_TRUE(on.matchesStatus(502));
  EXPECT_TRUE(on.matchesStatus(503));
  EXPECT_TRUE(on.matchesStatus(504));
  EXPECT_FALSE(on.matchesStatus(500));
  on.serverError = true;
  EXPECT_TRUE(on.matchesStatus(500));
  EXPECT_TRUE(on.matchesStatus(599));
  EXPECT_FALSE(on.matchesStatus(499));
}

TEST(RetryTest, IdempotentMethodsPerRfc9110) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    EXPECT_TRUE(isIdempotent(m)) << m;
  }
  for (const char* m : {"POST", "PATCH", "CONNECT", "get", "", "GETX"}) {
    EXPECT_FALSE(isIdempotent(m)) << m;
  }
}

TEST(ClassifyTest, NeverSentIsRetryableForEveryMethodEvenWithoutPolicy) {
  const RetrySettings none = withOn({});
  for (const char* m : {"GET", "POST", "PATCH"}) {
    EXPECT_EQ(classify(m, event(Kind::kConnectFailure), none), Classification::kRetryable) << m;
    EXPECT_EQ(classify(m, event(Kind::kResetBeforeSent), none), Classification::kRetryable) << m;
  }
}

TEST(ClassifyTest, Defaults503ForIdempotentOnly) {
  const RetrySettings defaults;
  EXPECT_EQ(classify("GET", response(503), defaults), Classification::kRetryable);
  EXPECT_EQ(classify("PUT", response(503), defaults), Classification::kRetryable);
  EXPECT_EQ(classify("POST", response(503), defaults), Classification::kFailure);
  EXPECT_EQ(classify("GET", response(500), defaults), Classification::kFailure);
  EXPECT_EQ(classify("GET", response(502), defaults), Classification::kFailure);
  EXPECT_EQ(classify("GET", response(200), defaults), Classification::kSuccess);
  EXPECT_EQ(classify("GET", response(404), defaults), Classification::kSuccess);
  EXPECT_EQ(classify("POST", response(201), defaults), Classification::kSuccess);
  EXPECT_EQ(classify("GET", event(Kind::kResetAfterSent), defaults), Classification::kFailure);
  EXPECT_EQ(classify("GET", event(Kind::kTimeout), defaults), Classification::kFailure);
  // Closed before any response byte (the instance died): idempotent only.
  AttemptOutcome died = event(Kind::kResetAfterSent);
  died.noResponseBytes = true;
  EXPECT_EQ(classify("GET", died, defaults), Classification::kRetryable);
  EXPECT_EQ(classify("POST", died, defaults), Classification::kFailure);
  died.bodyExceededReplayBuffer = true;
  EXPECT_EQ(classify("PUT", died, defaults), Classification::kFailure);
}

TEST(ClassifyTest, NonIdempotentOptIn) {
  RetrySettings settings;
  settings.nonIdempotent = true;
  EXPECT_EQ(classify("POST", response(503), settings), Classification::kRetryable);
  EXPECT_EQ(classify("POST", response(500), settings), Classification::kFailure);
}

TEST(ClassifyTest, OptInConditions) {
  const RetrySettings fiveXx = withOn({"5xx"});
  EXPECT_EQ(classify("GET", response(500), fiveXx), Classification::kRetryable);
  EXPECT_EQ(classify("GET", response(599), fiveXx), Classification::kRetryable);
  EXPECT_EQ(classify("GET", event(Kind::kTimeout), fiveXx), Classification::kRetryable);
  EXPECT_EQ(classify("POST", response(500), fiveXx), Classification::kFailure);

  const RetrySettings gateway = withOn({"gateway-error"});
  EXPECT_EQ(classify("GET", response(502), gateway), Classification::kRetryable);
  EXPECT_EQ(classify("GET", response(504), gateway), Classification::kRetryable);
  EXPECT_EQ(classify("GET", response(500), gateway), Classification::kFailure);
  EXPECT_EQ(classify("GET", event(Kind::kTimeout), gateway), Classification::kRetryable);

  const RetrySettings reset = withOn({"reset"});
  EXPECT_EQ(classify("GET", event(Kind::kResetAfterSent), reset), Classification::kRetryable);
  EXPECT_EQ(classify("POST", event(Kind::kResetAfterSent), reset), Classification::kFailure);
  EXPECT_EQ(classify("GET", response(503), reset), Classification::kFailure);

  // A listed 4xx: retryable when allowed, otherwise still a success.
  const RetrySettings tooMany = withOn({"429"});
  EXPECT_EQ(classify("GET", response(429), tooMany), Classification::kRetryable);
  EXPECT_EQ(classify("POST", response(429), tooMany), Classification::kSuccess);
}

TEST(ClassifyTest, NeverRetriedOnceStartedOrTooBigToReplay) {
  const RetrySettings all = withOn({"5xx", "reset"});
  AttemptOutcome started = response(503);
  started.responseStarted = true;
  EXPECT_EQ(classify("GET", started, all), Classification::kFailure);
  AttemptOutcome big = response(503);
  big.bodyExceededReplayBuffer = true;
  EXPECT_EQ(classify("GET", big, all), Classification::kFailure);
  AttemptOutcome bigRefused = event(Kind::kConnectFailure);
  bigRefused.bodyExceededReplayBuffer = true;
  EXPECT_EQ(classify("GET", bigRefused, all), Classification::kFailure);
  AttemptOutcome bigReset = event(Kind::kResetAfterSent);
  bigReset.bodyExceededReplayBuffer = true;
  EXPECT_EQ(classify("PUT", bigReset, all), Classification::kFailure);
  AttemptOutcome startedOk = response(200);
  startedOk.responseStarted = true;
  EXPECT_EQ(classify("GET", startedOk, all), Classification::kSuccess);
}

class RetryStateTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  SeededRandom random_{5};
  RetrySettings settings_;
};

TEST_F(RetryStateTest, Then503Then200OneRetryCounted) {
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);
  EXPECT_EQ(state.attempts(), 1u);
  const auto first = state.onAttempt(classify("GET", response(503), settings_));
  ASSERT_TRUE(first.retry);
  EXPECT_EQ(first.stop, RetryStop::kNone);
  EXPECT_LE(first.delay, milliseconds(25));
  EXPECT_GE(first.delay, Clock::Duration::zero());
  const auto second = state.onAttempt(classify("GET", response(200), settings_));
  EXPECT_FALSE(second.retry);
  EXPECT_EQ(second.stop, RetryStop::kSucceeded);
  EXPECT_EQ(state.attempts(), 2u);
  EXPECT_EQ(state.retries(), 1u);
  // One deposit, one withdrawal: 0.2 * 1 + 10 * 10 - 1.
  EXPECT_NEAR(budget.available(), 99.2, 1e-9);
}

TEST_F(RetryStateTest, ConnectionRefusedThen200OneRetryEvenForPost) {
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);
  EXPECT_TRUE(state.onAttempt(classify("POST", event(Kind::kConnectFailure), settings_)).retry);
  EXPECT_EQ(state.onAttempt(classify("POST", response(200), settings_)).stop,
            RetryStop::kSucceeded);
  EXPECT_EQ(state.retries(), 1u);
}

TEST_F(RetryStateTest, AttemptsIncludeTheFirst) {
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);  // attempts: 3
  const auto c = classify("GET", response(503), settings_);
  const auto d1 = state.onAttempt(c);
  const auto d2 = state.onAttempt(c);
  const auto d3 = state.onAttempt(c);
  EXPECT_TRUE(d1.retry);
  EXPECT_TRUE(d2.retry);
  EXPECT_FALSE(d3.retry);
  EXPECT_EQ(d3.stop, RetryStop::kAttemptsExhausted);
  EXPECT_EQ(state.attempts(), 3u);
  EXPECT_EQ(state.retries(), 2u);
  // The second backoff may be up to twice the first's ceiling.
  EXPECT_LE(d2.delay, milliseconds(50));
  // Once stopped, it stays stopped.
  EXPECT_FALSE(state.onAttempt(c).retry);
  EXPECT_EQ(state.attempts(), 3u);
}

TEST_F(RetryStateTest, SingleAttemptNeverRetries) {
  settings_.attempts = 1;
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);
  const auto d = state.onAttempt(classify("GET", event(Kind::kConnectFailure), settings_));
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.stop, RetryStop::kAttemptsExhausted);
}

TEST_F(RetryStateTest, NotRetryableStopsAtOnce) {
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);
  const auto d = state.onAttempt(classify("POST", response(503), settings_));
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.stop, RetryStop::kNotRetryable);
  EXPECT_EQ(state.retries(), 0u);
}

TEST_F(RetryStateTest, BudgetExhaustedStopsRetries) {
  settings_.budget = {0.0, 0, seconds(10)};
  RetryBudget budget(settings_.budget, clock_);
  RetryState state(settings_, budget, random_);
  const auto d = state.onAttempt(Classification::kRetryable);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.stop, RetryStop::kBudgetExhausted);
  EXPECT_EQ(state.retries(), 0u);
}

// Scenario: an outage where every attempt fails. 100 requests, 3 attempts
// each, budget 20 % with no floor: at most 20 retries happen in total.
TEST_F(RetryStateTest, BudgetBoundsRetriesAcrossRequests) {
  settings_.budget = {0.2, 0, seconds(10)};
  RetryBudget budget(settings_.budget, clock_);
  int retries = 0;
  int exhausted = 0;
  for (int i = 0; i < 100; ++i) {
    RetryState state(settings_, budget, random_);
    for (int k = 0; k < 5; ++k) {
      const auto d = state.onAttempt(Classification::kRetryable);
      if (!d.retry) {
        exhausted += d.stop == RetryStop::kBudgetExhausted ? 1 : 0;
        break;
      }
    }
    retries += static_cast<int>(state.retries());
    clock_.advance(milliseconds(10));
  }
  EXPECT_EQ(retries, 20);
  EXPECT_GT(exhausted, 0);
}

TEST(RetrySettingsTest, Validate) {
  EXPECT_TRUE(validate(RetrySettings{}).ok());
  RetrySettings s;
  s.attempts = 0;
  EXPECT_FALSE(validate(s).ok());
  s.attempts = 11;
  EXPECT_FALSE(validate(s).ok());
  s.attempts = 3;
  s.backoff.base = milliseconds(0);
  auto r = validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("retries: backoff.base"), std::string::npos);
  s.backoff = {};
  s.budget.ratio = -1;
  EXPECT_FALSE(validate(s).ok());
}

}  // namespace
}  // namespace weft::proxy::resilience
