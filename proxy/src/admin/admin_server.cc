// Admin HTTP endpoints with Beast, one small coroutine per connection.
#include "proxy/src/admin/admin_server.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/http/listen.h"

namespace weft::proxy::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

}  // namespace

AdminServer::AdminServer(asio::io_context& io, Hooks hooks)
    : io_(io), acceptor_(io), hooks_(std::move(hooks)) {}

Result<std::unique_ptr<AdminServer>> AdminServer::create(asio::io_context& io,
                                                         const asio::ip::tcp::endpoint& ep,
                                                         Hooks hooks) {
  std::unique_ptr<AdminServer> s(new AdminServer(io, std::move(hooks)));
  boost::system::error_code ec = weft::http::listenOn(s->acceptor_, ep);
  if (ec) {
    return makeError(ErrorCode::kIo, "admin listen on " + ep.address().to_string() + ":" +
                                         std::to_string(ep.port()) + ": " + ec.message());
  }
  return s;
}

asio::ip::tcp::endpoint AdminServer::localEndpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void AdminServer::start() { asio::co_spawn(io_, acceptLoop(), asio::detached); }

void AdminServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> AdminServer::acceptLoop() {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(ecTok(ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      co_return;
    }
    if (ec) {
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::serve(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(8192);
    parser.body_limit(4096);
    stream.expires_after(std::chrono::seconds(10));
    co_await bhttp::async_read(stream, buffer, parser, ecTok(ec));
    if (ec) {
      co_return;
    }
    const auto& req = parser.get();
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "text/plain");
    auto target = req.target();
    auto path = target.substr(0, target.find('?'));
    bool get = req.method() == bhttp::verb::get;
    if (path == "/live" && get) {
      res.body() = "live\n";
    } else if (path == "/ready" && get) {
      bool ready = hooks_.ready && hooks_.ready();
      res.result(ready ? bhttp::status::ok : bhttp::status::service_unavailable);
      res.body() = ready ? "ready\n" : "not ready\n";
    } else if (path == "/metrics" && get) {
      res.set(bhttp::field::content_type, "text/plain; version=0.0.4");
      res.body() = hooks_.metrics ? hooks_.metrics() : "";
    } else if (path == "/config" && get) {
      res.set(bhttp::field::content_type, "application/json");
      res.body() = hooks_.config ? hooks_.config() : "{}";
    } else if (path == "/shutdown" || path == "/drain") {
      // Only the pod itself may stop its proxy: the admin port is reachable
      // from the whole cluster when it listens on 0.0.0.0.
      const bool shutdown = path == "/shutdown";
      if (req.method() != bhttp::verb::post) {
        res.result(bhttp::status::method_not_allowed);
        res.body() = "use POST\n";
      } else if (!peer.address().is_loopback()) {
        res.result(bhttp::status::forbidden);
        res.body() =
            std::string(shutdown ? "shutdown" : "drain") + " is only accepted from loopback\n";
      } else if (shutdown) {
        res.body() = "shutting down\n";
        if (hooks_.shutdown) {
          hooks_.shutdown();
        }
      } else {
        int open = hooks_.drain ? hooks_.drain() : 0;
        res.result(open == 0 ? bhttp::status::ok : bhttp::status::accepted);
        res.body() =
            open == 0 ? "drained\n" : "draining: " + std::to_string(open) + " connections open\n";
      }
    } else {
      res.result(bhttp::status::not_found);
      res.body() = "not found\n";
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, ecTok(ec));
    if (ec || !res.keep_alive()) {
      co_return;
    }
  }
}

}  // namespace weft::proxy::admin
