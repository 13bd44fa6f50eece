// One accepted client connection: finds its original destination, decides
// between HTTP/1 and opaque TCP (configured ports, remembered destinations,
// or by peeking with a timeout) and hands it to http/ or tcp/.
#pragma once

#include "common/asio.h"
#include "proxy/src/net/context.h"

namespace weft::proxy::app {

boost::asio::awaitable<void> handleConnection(net::WorkerContext& ctx, net::Tcp::socket socket,
                                              bool inbound);

}  // namespace weft::proxy::app
