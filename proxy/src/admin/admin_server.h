// The admin listener: /live, /ready, /metrics, /config, and POST /shutdown
// and POST /drain (loopback peers only). Runs on the main thread's io_context, away from
// the workers, so a scrape never delays a request.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/result.h"

namespace weft::proxy::admin {

struct Hooks {
  std::function<bool()> ready;
  std::function<std::string()> metrics;  // Prometheus text
  std::function<std::string()> config;   // JSON
  std::function<void()> shutdown;        // starts a drain, then exits
  // Stops accepting and closes idle connections, without exiting (idempotent);
  // returns how many connections are still open.
  std::function<int()> drain;
};

class AdminServer {
 public:
  static Result<std::unique_ptr<AdminServer>> create(boost::asio::io_context& io,
                                                     const boost::asio::ip::tcp::endpoint& ep,
                                                     Hooks hooks);
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  void start();
  void stop();

 private:
  AdminServer(boost::asio::io_context& io, Hooks hooks);
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Hooks hooks_;
};

}  // namespace weft::proxy::admin
