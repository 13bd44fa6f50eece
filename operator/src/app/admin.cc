// Admin HTTP server on Beast coroutines: small requests, small answers, keep-alive.
#include "operator/src/app/admin.h"

#include "common/asio.h"
#include "common/http/listen.h"
// Asio first (common/asio.h), then Beast.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log/log.h"
#include "operator/src/discovery/server.h"

namespace weft::op::app {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct AdminServer::Impl {
  Impl(net::io_context& ioIn, AdminHandler h) : io(ioIn), acceptor(ioIn), handler(std::move(h)) {}
  net::io_context& io;
  tcp::acceptor acceptor;
  AdminHandler handler;
  bool stopped = false;
};

namespace {

using ImplPtr = std::shared_ptr<AdminServer::Impl>;

net::awaitable<void> serve(ImplPtr self, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(4096);
  beast::error_code ec;
  for (int i = 0; i < 1000 && !self->stopped; ++i) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      break;
    }
    const auto& req = parser.get();
    AdminResponse r;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      r = {405, "text/plain; charset=utf-8", "use GET\n"};
    } else {
      std::string target(req.target());
      r = self->handler(target.substr(0, target.find('?')));
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
    res.set(http::field::content_type, r.contentType);
    res.body() = req.method() == http::verb::head ? "" : std::move(r.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    if (ec || !req.keep_alive()) {
      break;
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

net::awaitable<void> acceptLoop(ImplPtr self) {
  net::steady_timer pause(self->io);
  for (;;) {
    beast::error_code ec;
    tcp::socket socket =
        co_await self->acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!self->acceptor.is_open() || self->stopped) {
        co_return;
      }
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    net::co_spawn(self->io, serve(self, std::move(socket)), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::get("operator.admin")->error("admin connection failed: {}", ex.what());
        }
      }
    });
  }
}

}  // namespace

Result<std::unique_ptr<AdminServer>> AdminServer::create(net::io_context& io,
                                                         const std::string& listen,
                                                         AdminHandler handler) {
  auto addr = discovery::parseListen(listen);
  if (!addr) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--admin-listen: " + listen + ": " + addr.error().message);
  }
  auto impl = std::make_shared<Impl>(io, std::move(handler));
  beast::error_code ec;
  tcp::endpoint ep(net::ip::make_address(addr->ip, ec), addr->port);
  if (!ec) {
    ec = weft::http::listenOn(impl->acceptor, ep);
  }
  if (ec) {
    return makeError(ErrorCode::kUnavailable, "--admin-listen " + listen + ": " + ec.message());
  }
  net::co_spawn(io, acceptLoop(impl), net::detached);
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

AdminServer::~AdminServer() { stop(); }

std::uint16_t AdminServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void AdminServer::stop() {
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace weft::op::app
