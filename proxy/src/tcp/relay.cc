// Two coroutines, one per direction, sharing an idle timer.
#include "proxy/src/tcp/relay.h"

#include <array>
#include <chrono>

namespace weft::proxy::tcp {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Shared {
  Clock::time_point lastActivity = Clock::now();
  bool failed = false;
};

asio::awaitable<std::uint64_t> pump(net::Stream& from, net::Stream& to, Shared& shared,
                                    bool toUpstream, RelayCounters counters) {
  std::array<char, 16384> buf;
  std::uint64_t total = 0;
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await from.async_read_some(asio::buffer(buf),
                                                  asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0) {
      shared.lastActivity = Clock::now();
      boost::system::error_code wec;
      co_await asio::async_write(to, asio::buffer(buf.data(), n),
                                 asio::redirect_error(asio::use_awaitable, wec));
      if (wec) {
        shared.failed = true;
        break;
      }
      total += n;
      if (counters.onBytes != nullptr) {
        counters.onBytes(counters.ctx, toUpstream, n);
      }
    }
    if (ec) {
      // A TLS peer half-closes without close_notify (see Stream::shutdownSend).
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        // Pass the half-close on; the other direction may still be talking.
        to.shutdownSend();
      } else {
        shared.failed = true;
      }
      break;
    }
  }
  if (shared.failed) {
    from.close();
    to.close();
  }
  co_return total;
}

// Closes both sockets once nothing moved for `idle`; returns when `stop` is set.
asio::awaitable<void> watchdog(net::Stream& a, net::Stream& b, Shared& shared,
                               asio::steady_timer& timer, std::chrono::milliseconds idle,
                               const bool& stop) {
  while (!stop) {
    auto due = shared.lastActivity + idle;
    if (Clock::now() >= due) {
      a.close();
      b.close();
      co_return;
    }
    timer.expires_at(due);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Completion signal for a spawned coroutine the caller must outlive.
struct Done {
  explicit Done(const asio::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
  void set() {
    done = true;
    timer.cancel();
  }
  asio::awaitable<void> wait() {
    while (!done) {
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  asio::steady_timer timer;
  bool done = false;
};

}  // namespace

asio::awaitable<RelayStats> relay(net::Stream& client, net::Stream& upstream,
                                  std::chrono::milliseconds idle, RelayCounters counters) {
  auto ex = co_await asio::this_coro::executor;
  Shared shared;
  RelayStats stats;
  Done downDone(ex);
  Done dogDone(ex);
  asio::steady_timer dogTimer(ex);
  bool stopDog = false;
  asio::co_spawn(
      ex,
      [&]() -> asio::awaitable<void> {
        stats.toClient = co_await pump(upstream, client, shared, false, counters);
      },
      [&](std::exception_ptr) { downDone.set(); });
  if (idle.count() > 0) {
    asio::co_spawn(ex, watchdog(client, upstream, shared, dogTimer, idle, stopDog),
                   [&](std::exception_ptr) { dogDone.set(); });
  } else {
    dogDone.done = true;
  }
  stats.toUpstream = co_await pump(client, upstream, shared, true, counters);
  co_await downDone.wait();
  stopDog = true;
  dogTimer.cancel();
  co_await dogDone.wait();
  co_return stats;
}

}  // namespace weft::proxy::tcp
