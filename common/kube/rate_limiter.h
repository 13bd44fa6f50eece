// Client-side rate limiting of API requests: a token bucket refilled at
// `qps` tokens a second holding at most `burst` (client-go's defaults shape).
#pragma once

#include <chrono>
#include <mutex>

namespace weft::kube {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // qps <= 0 disables limiting. The bucket starts full.
  TokenBucket(double qps, int burst, Clock::time_point now = Clock::now());

  // Takes a token at `now` (possibly one not yet refilled) and returns how
  // long the caller must wait before using it: zero while tokens remain.
  std::chrono::nanoseconds reserve(Clock::time_point now);
  // reserve() and sleep for the answer.
  void acquire();

 private:
  std::mutex mu_;
  double qps_;
  double burst_;
  double tokens_;  // may go negative: reservations not yet covered
  Clock::time_point last_;
};

}  // namespace weft::kube
