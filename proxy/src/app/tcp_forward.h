// Opaque TCP from a client connection to its destination: a balanced
// endpoint of a known service (mTLS with ALPN weft/tcp when the endpoint is
// meshed), the original destination, or the app on loopback for inbound.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include "common/asio.h"
#include "proxy/src/net/context.h"
#include "proxy/src/net/stream.h"

namespace weft::proxy::app {

// Relays until both sides are done; `initial` holds bytes already read from
// the client (sent first).
boost::asio::awaitable<void> forwardTcp(net::WorkerContext& ctx, net::Stream& client,
                                        boost::beast::flat_buffer& initial,
                                        const net::Tcp::endpoint& dst, bool redirected,
                                        bool inbound);

}  // namespace weft::proxy::app
