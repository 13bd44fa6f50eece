// Opaque TCP forwarding: copies bytes both ways until both sides are done,
// passing half-closes through, and counts the bytes.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/asio.h"
#include "proxy/src/net/stream.h"

namespace weft::proxy::tcp {

struct RelayStats {
  std::uint64_t toUpstream = 0;
  std::uint64_t toClient = 0;
};

// Counters bumped as bytes flow (may be null). Called on the sockets' worker.
struct RelayCounters {
  void (*onBytes)(void* ctx, bool toUpstream, std::uint64_t n) = nullptr;
  void* ctx = nullptr;
};

// Forwards until both directions reached EOF or one failed; `idle` closes a
// connection quiet in both directions for that long (zero = never).
// Either side may be TLS.
boost::asio::awaitable<RelayStats> relay(net::Stream& client, net::Stream& upstream,
                                         std::chrono::milliseconds idle, RelayCounters counters);

}  // namespace weft::proxy::tcp
