// A small HTTP/1.1 server (Boost.Beast, one C++20 coroutine per connection)
// for the injector, admin and API endpoints: optional TLS 1.2+ whose
// certificate files are reloaded when they change, keep-alive, limits on
// header and body size, deadlines on every read and write, graceful drain.
// Beast and Asio stay inside server.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace weft::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/mutate?timeout=5s"
  std::string path;    // "/mutate"
  std::string query;   // "timeout=5s"
  std::vector<Header> headers;
  std::string body;

  // First header with this name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::vector<Header> headers;
  std::string body;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
};

// Called on a server thread, concurrently for different connections; must be
// thread-safe. An exception escaping it becomes a 500 and is logged.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one
  std::string certFile;                // both empty: plain HTTP
  std::string keyFile;
  std::size_t maxHeaderBytes = 16 * 1024;
  std::size_t maxBodyBytes = 4 * 1024 * 1024;
  std::chrono::milliseconds handshakeTimeout{10'000};
  std::chrono::milliseconds requestTimeout{30'000};  // headers + body of one request
  std::chrono::milliseconds idleTimeout{120'000};    // between keep-alive requests
  std::chrono::milliseconds writeTimeout{30'000};
  std::chrono::milliseconds certCheckInterval{2'000};  // how often file mtimes are checked
  int threads = 1;
  std::string logger = "http";
};

// Splits "HOST:PORT" or "[v6]:PORT".
Result<std::pair<std::string, std::uint16_t>> parseHostPort(std::string_view text);

class Server {
 public:
  // Binds, loads the certificate (a bad one fails here) and starts serving on
  // its own threads. The handler is copied and kept until the server is gone.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Handler handler);
  ~Server();  // stop() with the default drain
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;

  // Stops accepting, closes idle connections, lets requests in flight finish
  // (their responses carry Connection: close) until `drain`, then closes the
  // rest. Idempotent; called from any thread except a server thread.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(5));

  // Counts certificate loads (1 after start); tests wait for it to grow.
  std::uint64_t certificateGeneration() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::http
