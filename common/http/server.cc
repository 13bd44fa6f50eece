// Beast HTTP/1.1 server: accept loop, one coroutine per connection on its own
// strand, certificate reload timer, graceful drain.
#include "common/http/server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/asio.h"
#include "common/http/listen.h"
#include "common/http/tls_files.h"
#include "common/log/log.h"

namespace weft::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Framing checks Beast 1.74 does not make (RFC 9112 6.1, 6.3): a request
// Transfer-Encoding must end in chunked, must not be combined with
// Content-Length, and is not allowed on HTTP/1.0.
std::optional<std::string> framingProblem(const bhttp::request_parser<bhttp::string_body>& p) {
  const auto& h = p.get();
  auto te = h.find(bhttp::field::transfer_encoding);
  if (te == h.end()) {
    return std::nullopt;
  }
  if (h.version() < 11) {
    return "Transfer-Encoding on HTTP/1.0";
  }
  if (h.find(bhttp::field::content_length) != h.end()) {
    return "both Transfer-Encoding and Content-Length";
  }
  std::string_view v = te->value();
  auto comma = v.rfind(',');
  std::string_view last = comma == std::string_view::npos ? v : v.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) {
    last.remove_prefix(1);
  }
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) {
    last.remove_suffix(1);
  }
  if (!iequals(last, "chunked")) {
    return "Transfer-Encoding not ending in chunked";
  }
  return std::nullopt;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      return h.value;
    }
  }
  return {};
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.contentType = "application/json";
  r.body = std::move(body);
  return r;
}

Result<std::pair<std::string, std::uint16_t>> parseHostPort(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return makeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not HOST:PORT");
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view portText = text.substr(colon + 1);
  unsigned port = 0;
  for (char c : portText) {
    if (c < '0' || c > '9' || port > 65535) {
      return makeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' has a bad port");
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535 || host.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "' is not HOST:PORT");
  }
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  std::optional<detail::TlsFiles> tls;

  // Live connections: id -> whether it is waiting for a new request. Guarded
  // by mu; each entry is only acted upon on that connection's own strand.
  struct Conn {
    asio::any_io_executor executor;
    tcp::socket* socket = nullptr;
    bool idle = true;
  };
  std::mutex mu;
  std::condition_variable drained;
  std::map<std::uint64_t, Conn> conns;
  std::uint64_t nextId = 0;
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::uint16_t port = 0;

  // Declared after what connection frames touch: destroying the io_context
  // destroys suspended frames, whose guards still use `mu` and `conns`.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer reloadTimer{io};
  std::vector<std::thread> threads;

  awaitable<void> acceptLoop();
  awaitable<void> reloadLoop();
  awaitable<void> session(tcp::socket socket, std::uint64_t id);
  template <class Stream>
  awaitable<void> serve(Stream& stream, std::uint64_t id);
  Response invoke(const Request& request);
  void setIdle(std::uint64_t id, bool idle);
};

awaitable<void> Server::Impl::acceptLoop() {
  asio::steady_timer backoff(io);
  while (!stopping) {
    tcp::socket socket(asio::make_strand(io));
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || stopping) {
      break;
    }
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      log::get(options.logger)->warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mu);
      id = ++nextId;
      conns[id] = Conn{socket.get_executor(), nullptr, true};
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket), id), [this, id](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::get(options.logger)->error("connection failed: {}", ex.what());
        }
      }
      std::lock_guard lock(mu);
      conns.erase(id);
      drained.notify_all();
    });
  }
}

awaitable<void> Server::Impl::reloadLoop() {
  while (!stopping) {
    reloadTimer.expires_after(options.certCheckInterval);
    boost::system::error_code ec;
    co_await reloadTimer.async_wait(redirect_error(use_awaitable, ec));
    if (ec || stopping) {
      break;
    }
    tls->reloadIfChanged();
  }
}

void Server::Impl::setIdle(std::uint64_t id, bool idle) {
  std::lock_guard lock(mu);
  if (auto it = conns.find(id); it != conns.end()) {
    it->second.idle = idle;
  }
}

awaitable<void> Server::Impl::session(tcp::socket socket, std::uint64_t id) {
  {
    std::lock_guard lock(mu);
    conns[id].socket = &socket;
  }
  struct Unregister {
    Impl* impl;
    std::uint64_t id;
    ~Unregister() {
      std::lock_guard lock(impl->mu);
      if (auto it = impl->conns.find(id); it != impl->conns.end()) {
        it->second.socket = nullptr;
      }
    }
  } unregister{this, id};

  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    {
      std::lock_guard lock(mu);
      conns[id].socket = &stream.socket();
    }
    co_await serve(stream, id);
    co_return;
  }
  // The frame keeps the context it started with alive across reloads.
  std::shared_ptr<asio::ssl::context> ctx = tls->current();
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ctx);
  {
    std::lock_guard lock(mu);
    conns[id].socket = &beast::get_lowest_layer(stream).socket();
  }
  beast::get_lowest_layer(stream).expires_after(options.handshakeTimeout);
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  redirect_error(use_awaitable, ec));
  if (ec) {
    log::get(options.logger)->debug("TLS handshake failed: {}", ec.message());
    co_return;
  }
  co_await serve(stream, id);
  if (!stopping) {
    // close_notify, so the client can tell a complete response from a cut.
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(redirect_error(use_awaitable, ec));
  }
}

Response Server::Impl::invoke(const Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    log::get(options.logger)
        ->error("{} {}: handler failed: {}", request.method, request.path, e.what());
  } catch (...) {
    log::get(options.logger)->error("{} {}: handler failed", request.method, request.path);
  }
  return Response::text(500, "internal error\n");
}

template <class Stream>
awaitable<void> Server::Impl::serve(Stream& stream, std::uint64_t id) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.maxHeaderBytes));
    parser.body_limit(options.maxBodyBytes);
    boost::system::error_code ec;

    setIdle(id, buffer.size() == 0);
    lowest.expires_after(first ? options.requestTimeout : options.idleTimeout);
    co_await bhttp::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
    setIdle(id, false);
    first = false;

    int refuse = 0;
    std::string why;
    if (!ec) {
      if (auto problem = framingProblem(parser)) {
        refuse = 400;
        why = *problem;
      }
    }
    if (!ec && refuse == 0) {
      const auto& h = parser.get();
      if (auto expect = h.find(bhttp::field::expect);
          expect != h.end() && iequals(expect->value(), "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, h.version()};
        lowest.expires_after(options.writeTimeout);
        co_await bhttp::async_write(stream, cont, redirect_error(use_awaitable, ec));
      }
      if (!ec) {
        lowest.expires_after(options.requestTimeout);
        co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
      }
    }
    if (ec == bhttp::error::header_limit) {
      refuse = 431;
      why = "request header larger than " + std::to_string(options.maxHeaderBytes) + " bytes";
    } else if (ec == bhttp::error::body_limit) {
      refuse = 413;
      why = "request body larger than " + std::to_string(options.maxBodyBytes) + " bytes";
    } else if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
               ec == asio::error::operation_aborted || ec == beast::error::timeout ||
               ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated) {
      co_return;
    } else if (ec &&
               ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      refuse = 400;
      why = "malformed request: " + ec.message();
    } else if (ec) {
      co_return;  // transport or TLS failure: nobody to answer
    }

    bhttp::response<bhttp::string_body> res;
    bool keepAlive = false;
    if (refuse != 0) {
      log::get(options.logger)->debug("refusing request: {}", why);
      res.result(static_cast<unsigned>(refuse));
      res.version(11);
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = why + "\n";
    } else {
      auto& msg = parser.get();
      Request request;
      request.method = std::string(msg.method_string());
      request.target = std::string(msg.target());
      auto q = request.target.find('?');
      request.path = request.target.substr(0, q);
      request.query = q == std::string::npos ? "" : request.target.substr(q + 1);
      for (const auto& field : msg) {
        request.headers.push_back(
            Header{std::string(field.name_string()), std::string(field.value())});
      }
      request.body = std::move(msg.body());
      Response response = invoke(request);
      keepAlive = msg.keep_alive() && !stopping;
      res.result(static_cast<unsigned>(response.status));
      res.version(msg.version());
      res.set(bhttp::field::content_type, response.contentType);
      for (const auto& h : response.headers) {
        res.set(h.name, h.value);
      }
      res.body() = std::move(response.body);
    }
    res.keep_alive(keepAlive);
    res.prepare_payload();
    lowest.expires_after(options.writeTimeout);
    co_await bhttp::async_write(stream, res, redirect_error(use_awaitable, ec));
    if (ec || !keepAlive) {
      co_return;
    }
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  const ServerOptions& o = impl->options;
  if (o.certFile.empty() != o.keyFile.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "give both a certificate and a key, or neither");
  }
  if (!o.certFile.empty()) {
    impl->tls.emplace(o.certFile, o.keyFile, o.logger);
    if (auto loaded = impl->tls->load(); !loaded) {
      return loaded.error();
    }
  }
  auto hostPort = parseHostPort(o.listen);
  if (!hostPort) {
    return hostPort.error();
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hostPort->first, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "'" + hostPort->first + "' is not an IP address");
  }
  tcp::endpoint endpoint(address, hostPort->second);
  auto& acceptor = impl->acceptor;
  ec = listenOn(acceptor, endpoint);
  if (ec) {
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + o.listen + ": " + ec.message());
  }
  impl->port = acceptor.local_endpoint(ec).port();

  Impl* raw = impl.get();
  auto logFailure = [raw](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::get(raw->options.logger)->error("server loop failed: {}", ex.what());
      }
    }
  };
  asio::co_spawn(raw->io, raw->acceptLoop(), logFailure);
  if (raw->tls) {
    asio::co_spawn(raw->io, raw->reloadLoop(), logFailure);
  }
  for (int i = 0; i < std::max(1, o.threads); ++i) {
    raw->threads.emplace_back([raw] { raw->io.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

std::uint64_t Server::certificateGeneration() const {
  return impl_->tls ? impl_->tls->generation() : 0;
}

void Server::stop(std::chrono::milliseconds drain) {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mu);
    if (impl.stopped) {
      return;
    }
    impl.stopped = true;
  }
  impl.stopping = true;
  asio::post(impl.io, [&impl] {
    boost::system::error_code ec;
    impl.acceptor.close(ec);
    impl.reloadTimer.cancel();
  });
  // Idle connections are closed now; busy ones finish their request first.
  auto closeIdle = [&impl](bool all) {
    std::lock_guard lock(impl.mu);
    for (auto& [id, conn] : impl.conns) {
      if (!conn.idle && !all) {
        continue;
      }
      asio::post(conn.executor, [&impl, id = id] {
        std::lock_guard inner(impl.mu);
        if (auto it = impl.conns.find(id); it != impl.conns.end() && it->second.socket) {
          boost::system::error_code ec;
          it->second.socket->cancel(ec);
        }
      });
    }
  };
  closeIdle(false);
  {
    std::unique_lock lock(impl.mu);
    impl.drained.wait_for(lock, drain, [&impl] { return impl.conns.empty(); });
  }
  closeIdle(true);
  impl.io.stop();
  for (auto& t : impl.threads) {
    if (t.joinable()) {
      t.join();
    }
  }
}

}  // namespace weft::http
