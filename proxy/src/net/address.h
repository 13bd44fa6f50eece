// Socket addresses for listeners and transparent destinations: parsing
// "HOST:PORT" flags and reading the original destination of a redirected
// connection. Knows nothing of HTTP.
#pragma once

#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/result.h"

namespace weft::proxy::net {

using Tcp = boost::asio::ip::tcp;

// "0.0.0.0:15101", "127.0.0.1:0", "[::1]:15100"; names are refused.
Result<Tcp::endpoint> parseEndpoint(std::string_view text);

// "ip:port" as written in documents ("[v6]:port" for IPv6).
std::string toString(const Tcp::endpoint& ep);

// Where the client meant to go: SO_ORIGINAL_DST (IPv4) / IP6T_SO_ORIGINAL_DST
// when iptables redirected the connection, else the local address (so a
// connection made straight to the listener on loopback works). `redirected`
// tells which.
Tcp::endpoint originalDestination(Tcp::socket& socket, bool& redirected);

}  // namespace weft::proxy::net
