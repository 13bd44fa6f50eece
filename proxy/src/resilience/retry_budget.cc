// RetryBudget: a ring of time buckets with running totals.
#include "proxy/src/resilience/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace weft::proxy::resilience {

namespace {

// Absorbs rounding in ratio * deposits (0.2 * 5 must allow exactly one retry).
constexpr double kEpsilon = 1e-9;

}  // namespace

Result<void> validate(const RetryBudgetSettings& settings) {
  if (!std::isfinite(settings.ratio) || settings.ratio < 0.0 || settings.ratio > 1000.0) {
    return makeError(ErrorCode::kInvalidArgument, "retry budget ratio must be within [0, 1000]");
  }
  if (!std::isfinite(settings.minPerSecond) || settings.minPerSecond < 0.0 ||
      settings.minPerSecond > 1'000'000.0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "retry budget minPerSecond must be within [0, 1000000]");
  }
  if (settings.window < std::chrono::seconds(1) || settings.window > std::chrono::hours(1)) {
    return makeError(ErrorCode::kInvalidArgument, "retry budget window must be within [1s, 1h]");
  }
  return okResult();
}

RetryBudget::RetryBudget(RetryBudgetSettings settings, const Clock& clock)
    : settings_(settings), clock_(&clock), epoch_(clock.now()) {
  // Unvalidated settings are clamped rather than trusted.
  if (!std::isfinite(settings_.ratio) || settings_.ratio < 0.0) {
    settings_.ratio = 0.0;
  }
  if (!std::isfinite(settings_.minPerSecond) || settings_.minPerSecond < 0.0) {
    settings_.minPerSecond = 0.0;
  }
  settings_.window =
      std::clamp<Clock::Duration>(settings_.window, std::chrono::seconds(1), std::chrono::hours(1));
  bucketWidth_ = settings_.window / static_cast<int>(kBuckets);
}

void RetryBudget::advance() {
  const auto now = clock_->now();
  const std::int64_t index = now <= epoch_ ? 0 : (now - epoch_) / bucketWidth_;
  if (index <= current_) {
    return;
  }
  if (index - current_ >= static_cast<std::int64_t>(kBuckets)) {
    buckets_.fill(Bucket{});
    deposits_ = 0;
    withdrawals_ = 0;
  } else {
    for (std::int64_t i = current_ + 1; i <= index; ++i) {
      Bucket& bucket = buckets_[static_cast<std::size_t>(i) % kBuckets];
      deposits_ -= bucket.deposits;
      withdrawals_ -= bucket.withdrawals;
      bucket = Bucket{};
    }
  }
  current_ = index;
}

void RetryBudget::deposit() {
  advance();
  ++buckets_[static_cast<std::size_t>(current_) % kBuckets].deposits;
  ++deposits_;
}

double RetryBudget::available() {
  advance();
  const double seconds = std::chrono::duration<double>(settings_.window).count();
  const double allowed =
      settings_.ratio * static_cast<double>(deposits_) + settings_.minPerSecond * seconds;
  return allowed - static_cast<double>(withdrawals_);
}

bool RetryBudget::tryWithdraw() {
  if (available() + kEpsilon < 1.0) {
    return false;
  }
  ++buckets_[static_cast<std::size_t>(current_) % kBuckets].withdrawals;
  ++withdrawals_;
  return true;
}

}  // namespace weft::proxy::resilience
