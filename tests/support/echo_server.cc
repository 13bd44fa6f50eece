// weft-test-backend: a small HTTP/1.1 server for tests and demos. It echoes
// what it received as JSON, and can be slow, fail, stream, upgrade or
// misbehave on request:
//   /status/NNN        answer with that status
//   /chunked/N         N chunks of "chunk-i\n" with Transfer-Encoding: chunked
//   /sleep/MS          wait MS milliseconds first
//   /upgrade           (with Connection: upgrade) 101, then echo raw bytes
//   /malformed         a response that is not HTTP
//   /close             close the connection without answering
// Prints "listening on PORT" on stdout once it accepts connections.
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/asio.h"
#include "common/flags/flags.h"
#include "common/json/json.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Options {
  std::string listen = "127.0.0.1";
  unsigned port = 0;
  unsigned latencyMs = 0;
  double errorRate = 0;
  std::string name = "v1";
  unsigned threads = 1;
};

auto tok(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::atomic<std::uint64_t> gRequests{0};

asio::awaitable<void> echoRaw(tcp::socket& s, beast::flat_buffer& buffer) {
  boost::system::error_code ec;
  if (buffer.size() > 0) {
    co_await asio::async_write(s, buffer.data(), tok(ec));
    buffer.consume(buffer.size());
  }
  std::array<char, 8192> buf;
  for (;;) {
    std::size_t n = co_await s.async_read_some(asio::buffer(buf), tok(ec));
    if (ec) {
      co_return;
    }
    co_await asio::async_write(s, asio::buffer(buf.data(), n), tok(ec));
    if (ec) {
      co_return;
    }
  }
}

asio::awaitable<void> serve(tcp::socket socket, const Options& opt, unsigned short port) {
  beast::flat_buffer buffer;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    co_await http::async_read(socket, buffer, parser, tok(ec));
    if (ec) {
      co_return;
    }
    auto& req = parser.get();
    gRequests.fetch_add(1, std::memory_order_relaxed);
    std::string path(req.target().substr(0, req.target().find('?')));
    unsigned delay = opt.latencyMs;
    if (path.rfind("/sleep/", 0) == 0) {
      delay = static_cast<unsigned>(std::strtoul(path.c_str() + 7, nullptr, 10));
    }
    if (delay > 0) {
      asio::steady_timer t(socket.get_executor(), std::chrono::milliseconds(delay));
      co_await t.async_wait(tok(ec));
    }
    if (path == "/close") {
      co_return;
    }
    if (path == "/malformed") {
      co_await asio::async_write(socket, asio::buffer(std::string("HTTP/1.1 2x0 Nope\r\n\r\n")),
                                 tok(ec));
      co_return;
    }
    if (path == "/upgrade" && req[http::field::upgrade] != "") {
      http::response<http::empty_body> res{http::status::switching_protocols, req.version()};
      res.set(http::field::upgrade, req[http::field::upgrade]);
      res.set(http::field::connection, "upgrade");
      co_await http::async_write(socket, res, tok(ec));
      if (!ec) {
        co_await echoRaw(socket, buffer);
      }
      co_return;
    }
    unsigned status = 200;
    if (path.rfind("/status/", 0) == 0) {
      status = static_cast<unsigned>(std::strtoul(path.c_str() + 8, nullptr, 10));
      if (status < 200 || status > 599) {
        status = 400;
      }
    } else if (opt.errorRate > 0 && std::uniform_real_distribution<>(0, 1)(rng) < opt.errorRate) {
      status = 503;
    }
    if (path.rfind("/chunked/", 0) == 0) {
      unsigned n = static_cast<unsigned>(std::strtoul(path.c_str() + 9, nullptr, 10));
      http::response<http::empty_body> res{http::status::ok, req.version()};
      res.chunked(true);
      res.set("x-backend", opt.name);
      http::response_serializer<http::empty_body> sr{res};
      co_await http::async_write_header(socket, sr, tok(ec));
      for (unsigned i = 0; i < n && !ec; ++i) {
        std::string piece = "chunk-" + std::to_string(i) + "\n";
        co_await asio::async_write(socket, http::make_chunk(asio::buffer(piece)), tok(ec));
      }
      if (!ec) {
        co_await asio::async_write(socket, http::make_chunk_last(), tok(ec));
      }
      if (ec || !req.keep_alive()) {
        co_return;
      }
      continue;
    }
    weft::json::Json body;
    body["backend"] = opt.name;
    body["port"] = port;
    body["method"] = std::string(req.method_string());
    body["target"] = std::string(req.target());
    body["version"] = req.version();
    body["bodyLength"] = req.body().size();
    body["bodyHash"] = std::hash<std::string>{}(req.body());
    auto& headers = body["headers"] = weft::json::Json::array();
    for (const auto& f : req) {
      headers.push_back({std::string(f.name_string()), std::string(f.value())});
    }
    http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.set("x-backend", opt.name);
    res.body() = weft::json::dump(body) + "\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(socket, res, tok(ec));
    if (ec || !req.keep_alive()) {
      co_return;
    }
  }
}

asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, const Options& opt, unsigned short port) {
  for (;;) {
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(tok(ec));
    if (ec) {
      if (!acceptor.is_open()) {
        co_return;
      }
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), opt, port), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Test backend: echoes requests as JSON", "weft-test-backend"};
  weft::flags::CommonFlags common;
  weft::flags::addCommonFlags(app, common);
  Options opt;
  app.add_option("--listen", opt.listen, "IP address to bind")->capture_default_str();
  app.add_option("--port", opt.port, "port (0: any free port)")->check(CLI::Range(0u, 65535u));
  app.add_option("--latency-ms", opt.latencyMs, "delay before every response");
  app.add_option("--error-rate", opt.errorRate, "fraction of requests answered 503")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--name", opt.name, "name reported in responses (x-backend)");
  app.add_option("--threads", opt.threads, "threads")->check(CLI::Range(1u, 64u));
  if (auto code = weft::flags::parse(app, argc, argv, common)) {
    return *code;
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opt.listen, ec);
  if (ec) {
    return weft::flags::fail(app, "--listen: not an IP address");
  }
  asio::io_context io;
  tcp::acceptor acceptor(io);
  tcp::endpoint ep(addr, static_cast<unsigned short>(opt.port));
  acceptor.open(ep.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(ep, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return weft::flags::fail(app, "listen: " + ec.message());
  }
  auto port = acceptor.local_endpoint().port();
  asio::co_spawn(io, acceptLoop(acceptor, opt, port), asio::detached);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  std::printf("listening on %u\n", port);
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < opt.threads; ++i) {
    threads.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : threads) {
    t.join();
  }
  return 0;
}
