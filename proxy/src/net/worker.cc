// Worker threads and SO_REUSEPORT listeners.
#include "proxy/src/net/worker.h"

#include <sys/socket.h>

#include "common/http/listen.h"
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
  boost::system::error_code ec = weft::http::listenOn(*acceptor, ep, /*reusePort=*/true);
  if (ec) {
    return makeError(ErrorCode::kIo, "listen on " + ep.address().to_string() + ":" +
                                         std::to_string(ep.port()) + ": " + ec.message());
  }
  return acceptor;
}

}  // namespace weft::proxy::net
