// Worker threads: each runs its own io_context; a connection accepted on a
// worker stays there, so the request path shares nothing between threads.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/result.h"

namespace weft::proxy::net {

class Worker {
 public:
  explicit Worker(unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // Starts the thread; it marks itself as metrics shard index+1 and runs
  // until stop(). Thread-safe.
  void start();
  void stop();
  void join();

 private:
  unsigned index_;
  // One thread runs it, and only that thread touches its sockets (config and
  // drain arrive by post()), so socket operations need no lock.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Binds a listening socket with SO_REUSEPORT on `io`, so every worker owns
// one and the kernel spreads connections across them.
Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listenReusePort(
    boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& ep);

}  // namespace weft::proxy::net
