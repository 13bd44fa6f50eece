// Opens, binds and listens an acceptor: the set-up every server here shares.
// Header-only so that the proxy uses it without linking the HTTP server.
#pragma once

#include <cerrno>

#include <sys/socket.h>

#include "common/asio.h"

namespace weft::http {

// reusePort adds SO_REUSEPORT, for one listening socket per worker thread.
inline boost::system::error_code listenOn(boost::asio::ip::tcp::acceptor& acceptor,
                                          const boost::asio::ip::tcp::endpoint& endpoint,
                                          bool reusePort = false) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec && reusePort) {
    int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  return ec;
}

}  // namespace weft::http
