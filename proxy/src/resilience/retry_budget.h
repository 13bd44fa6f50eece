// RetryBudget: retries limited to a ratio of recent requests plus a floor (no amplification).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "common/clock.h"
#include "common/result.h"

namespace weft::proxy::resilience {

// Maps policy.retries.budget in docs/api.md: {ratio: 0.2, minPerSecond: 10}.
// The window is not in the document: Linkerd and Finagle use 10 s.
struct RetryBudgetSettings {
  double ratio = 0.2;        // extra load retries may add, as a fraction of requests
  double minPerSecond = 10;  // retries always allowed, even with little traffic
  Clock::Duration window = std::chrono::seconds(10);
};

// ratio in [0, 1000], minPerSecond in [0, 1'000'000], window in [1 s, 1 h].
Result<void> validate(const RetryBudgetSettings& settings);

// Finagle's RetryBudget semantics: within the sliding window,
//   retries <= ratio * requests + minPerSecond * window_seconds.
// Every original request deposits, every retry withdraws; retries do not
// deposit. The window slides in steps of window/10. One per destination and
// worker; not thread-safe.
class RetryBudget {
 public:
  RetryBudget(RetryBudgetSettings settings, const Clock& clock);

  void deposit();
  // Takes one retry from the budget; false (and nothing taken) when exhausted.
  [[nodiscard]] bool tryWithdraw();
  // Retries that could be taken now (may be fractional).
  double available();

  const RetryBudgetSettings& settings() const { return settings_; }

 private:
  static constexpr std::size_t kBuckets = 10;
  struct Bucket {
    std::uint64_t deposits = 0;
    std::uint64_t withdrawals = 0;
  };

  void advance();

  RetryBudgetSettings settings_;
  const Clock* clock_;
  Clock::TimePoint epoch_;
  Clock::Duration bucketWidth_;
  std::int64_t current_ = 0;  // index of the bucket "now" falls in, counted from epoch_
  std::array<Bucket, kBuckets> buckets_{};
  std::uint64_t deposits_ = 0;  // sums over the buckets in the window
  std::uint64_t withdrawals_ = 0;
};

}  // namespace weft::proxy::resilience
