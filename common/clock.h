// Clock: an injectable monotonic time source, so time-driven logic is testable without sleeping.
#pragma once

#include <chrono>

namespace weft {

// Monotonic time. Implementations are safe to call from any thread; FakeClock
// is meant for a single test thread.
class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real thing: std::chrono::steady_clock.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }

  // A process-wide instance, for callers that need a `const Clock&` that outlives them.
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Starts an hour after the epoch so that
// "now minus a window" never underflows.
class FakeClock final : public Clock {
 public:
  FakeClock() = default;
  explicit FakeClock(TimePoint start) : now_(start) {}

  TimePoint now() const override { return now_; }
  void advance(Duration by) { now_ += by; }
  void set(TimePoint to) { now_ = to; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

}  // namespace weft
