// Retry classification, the `on` list parser and per-request retry state.
#include "proxy/src/resilience/retry.h"

#include <algorithm>
#include <charconv>

namespace weft::proxy::resilience {

bool RetryOn::matchesStatus(std::uint16_t status) const {
  if (serverError && status >= 500 && status <= 599) {
    return true;
  }
  if (gatewayError && (status == 502 || status == 503 || status == 504)) {
    return true;
  }
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

Result<RetryOn> parseRetryOn(std::span<const std::string> items) {
  RetryOn on;
  on.statuses.clear();
  for (const auto& item : items) {
    if (item == "connect-failure") {
      continue;  // always on: see RetryOn
    }
    if (item == "reset") {
      on.reset = true;
    } else if (item == "5xx") {
      on.serverError = true;
    } else if (item == "gateway-error") {
      on.gatewayError = true;
    } else {
      unsigned value = 0;
      const char* end = item.data() + item.size();
      auto [ptr, ec] = std::from_chars(item.data(), end, value);
      if (item.empty() || ec != std::errc() || ptr != end || value < 100 || value > 599) {
        return makeError(ErrorCode::kInvalidArgument,
                         "retries.on: unknown condition \"" + item +
                             "\" (want connect-failure, reset, 5xx, gateway-error or a status)");
      }
      const auto status = static_cast<std::uint16_t>(value);
      if (std::find(on.statuses.begin(), on.statuses.end(), status) == on.statuses.end()) {
        on.statuses.push_back(status);
      }
    }
  }
  return on;
}

Result<void> validate(const RetrySettings& settings) {
  if (settings.attempts < 1 || settings.attempts > 10) {
    return makeError(ErrorCode::kInvalidArgument, "retries.attempts must be within [1, 10]");
  }
  if (auto r = validate(settings.backoff); !r) {
    return r.error().context("retries");
  }
  if (auto r = validate(settings.budget); !r) {
    return r.error().context("retries");
  }
  return okResult();
}

bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

Classification classify(std::string_view method, const AttemptOutcome& outcome,
                        const RetrySettings& settings) {
  using Kind = AttemptOutcome::Kind;
  const bool replayable = !outcome.responseStarted && !outcome.bodyExceededReplayBuffer;
  const bool methodAllowed = settings.nonIdempotent || isIdempotent(method);
  const auto retryableIf = [&](bool condition) {
    return replayable && methodAllowed && condition ? Classification::kRetryable
                                                    : Classification::kFailure;
  };
  switch (outcome.kind) {
    case Kind::kConnectFailure:
    case Kind::kResetBeforeSent:
      // The app never saw it, so even a POST is safe to send elsewhere.
      return replayable ? Classification::kRetryable : Classification::kFailure;
    case Kind::kResetAfterSent:
      return retryableIf(settings.on.reset || outcome.noResponseBytes);
    case Kind::kTimeout:
      // The proxy answers a timed-out try as 504: retried when 5xx or gateway errors are.
      return retryableIf(settings.on.serverError || settings.on.gatewayError);
    case Kind::kResponse:
      break;
  }
  if (settings.on.matchesStatus(outcome.status) && replayable && methodAllowed) {
    return Classification::kRetryable;
  }
  return outcome.status >= 500 ? Classification::kFailure : Classification::kSuccess;
}

RetryState::RetryState(const RetrySettings& settings, RetryBudget& budget, Random& random)
    : maxAttempts_(std::max<std::uint32_t>(settings.attempts, 1)),
      budget_(&budget),
      backoff_(settings.backoff, random) {
  budget_->deposit();
}

RetryDecision RetryState::onAttempt(Classification classification) {
  if (done_) {
    return RetryDecision{false, RetryStop::kNotRetryable, {}};
  }
  RetryDecision decision;
  if (classification == Classification::kSuccess) {
    decision.stop = RetryStop::kSucceeded;
  } else if (classification == Classification::kFailure) {
    decision.stop = RetryStop::kNotRetryable;
  } else if (attempts_ >= maxAttempts_) {
    decision.stop = RetryStop::kAttemptsExhausted;
  } else if (!budget_->tryWithdraw()) {
    decision.stop = RetryStop::kBudgetExhausted;
  } else {
    ++attempts_;
    decision.retry = true;
    decision.delay = backoff_.next();
    return decision;
  }
  done_ = true;
  return decision;
}

}  // namespace weft::proxy::resilience
