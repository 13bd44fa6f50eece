// Retry policy: classify each attempt once, count attempts, and decide whether and when to retry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "proxy/src/resilience/backoff.h"
#include "proxy/src/resilience/random.h"
#include "proxy/src/resilience/retry_budget.h"

namespace weft::proxy::resilience {

// Maps policy.retries.on in docs/api.md. Requests that never reached the app
// (connect failure, reset before the request was sent) are retried whatever
// this says, so "connect-failure" is accepted but changes nothing.
struct RetryOn {
  bool reset = false;         // "reset": the connection broke after the request was sent
  bool serverError = false;   // "5xx" (also a per-try timeout)
  bool gatewayError = false;  // "gateway-error": 502, 503, 504 (also a per-try timeout)
  std::vector<std::uint16_t> statuses{503};  // "<status>", e.g. "503", "429"

  bool matchesStatus(std::uint16_t status) const;
};

// Parses the `on` list: connect-failure | reset | 5xx | gateway-error | a
// status in [100, 599]. Unknown words are an error, never ignored.
Result<RetryOn> parseRetryOn(std::span<const std::string> items);

// Maps policy.retries (and routes[].retries, already merged over it by the
// caller). The replay buffer is not in the document; DESIGN.md fixes 64 KiB.
struct RetrySettings {
  std::uint32_t attempts = 3;  // total tries, including the first; 1 = no retries
  RetryOn on;
  bool nonIdempotent = false;  // also retry POST, PATCH, ... for the listed conditions
  BackoffSettings backoff;
  RetryBudgetSettings budget;
  std::size_t replayBufferBytes = 64 * 1024;
};

// attempts in [1, 10], then the nested settings.
Result<void> validate(const RetrySettings& settings);

// RFC 9110 section 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE. Methods are
// case-sensitive, so "get" is not idempotent.
bool isIdempotent(std::string_view method);

// What happened to one attempt, as the caller saw it.
struct AttemptOutcome {
  enum class Kind {
    kResponse,         // a response head arrived: see status
    kConnectFailure,   // refused, unreachable or connect timeout: the request never left
    kResetBeforeSent,  // the connection broke before any request byte was written
    kResetAfterSent,   // the connection broke after the request (or part of it) was written
    kTimeout,          // the per-try timeout fired with no response head
  };
  Kind kind = Kind::kResponse;
  std::uint16_t status = 0;
  // The response already started towards the client: nothing can be taken back.
  bool responseStarted = false;
  // The request body grew past the replay buffer: it cannot be sent again.
  bool bodyExceededReplayBuffer = false;
  // kResetAfterSent with not one byte of response: the instance died or
  // closed the connection. An idempotent request may go again whatever `on`
  // says, so that killing an instance fails no idempotent request.
  bool noResponseBytes = false;
};

// One verdict per attempt, used for retries, outlier detection and metrics:
// a status below 500 that is not retryable is a success.
enum class Classification { kSuccess, kRetryable, kFailure };

// Retryable when it could be retried at all; attempts and the budget are
// RetryState's business. Never retryable once the response started or the
// body outgrew the replay buffer. Never-sent requests are retryable for every
// method; anything else needs a listed condition and an idempotent method (or
// nonIdempotent).
Classification classify(std::string_view method, const AttemptOutcome& outcome,
                        const RetrySettings& settings);

// Why a request stops being tried.
enum class RetryStop {
  kNone,               // it will be retried
  kSucceeded,          // the attempt was a success
  kNotRetryable,       // a failure that may not be retried
  kAttemptsExhausted,  // settings.attempts reached
  kBudgetExhausted,    // the retry budget said no (weft-error retry_budget_exhausted)
};

struct RetryDecision {
  bool retry = false;
  RetryStop stop = RetryStop::kNone;
  Clock::Duration delay{};  // wait this long before the next attempt (when retry)
};

// One per request, created when its first attempt starts (which deposits into
// the budget). The budget and random source must outlive it.
class RetryState {
 public:
  RetryState(const RetrySettings& settings, RetryBudget& budget, Random& random);

  // Call after each attempt with its classification.
  RetryDecision onAttempt(Classification classification);

  std::uint32_t attempts() const { return attempts_; }  // started so far, >= 1
  std::uint32_t retries() const { return attempts_ - 1; }

 private:
  std::uint32_t maxAttempts_;
  RetryBudget* budget_;
  Backoff backoff_;
  std::uint32_t attempts_ = 1;
  bool done_ = false;
};

}  // namespace weft::proxy::resilience
