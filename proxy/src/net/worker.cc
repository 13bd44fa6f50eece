// Worker threads and SO_REUSEPORT listeners.
#include "proxy/src/net/worker.h"

#include <sys/socket.h>

#include "common/metrics/metrics.h"

namespace weft::proxy::net {

Worker::Worker(unsigned index) : index_(index), guard_(io_.get_executor()) {}

Worker::~Worker() {
  stop();
  join();
}

void Worker::start() {
  thread_ = std::thread([this] {
    metrics::setThreadShard(index_ + 1);
    io_.run();
  });
}

void Worker::stop() {
  guard_.reset();
  io_.stop();
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listenReusePort(
    boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& ep) {
  auto acceptor = std::make_unique<boost::asio::ip::tcp::acceptor>(io);
  boost::system::error_code ec;
  acceptor->open(ep.protocol(), ec);
  if (!ec) {
    acceptor->set_option(boost::asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) {
    acceptor->bind(ep, ec);
  }
  if (!ec) {
    acceptor->listen(boost::asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return makeError(ErrorCode::kIo, "listen on " + ep.address().to_string() + ":" +
                                         std::to_string(ep.port()) + ": " + ec.message());
  }
  return acceptor;
}

}  // namespace weft::proxy::net
