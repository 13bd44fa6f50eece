// FakeApiServer: Beast, one thread per connection (tests open few), blocking
// I/O; stop() shuts every socket down so the threads end.
#include "tests/fakes/fake_apiserver.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include "common/asio.h"
#include "tests/fakes/fake_service_proxy.h"

namespace weft::testing {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

}  // namespace

struct FakeApiServer::Impl {
  FakeApiServerOptions options;
  FakeApiState state;
  boost::asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<ssl::context> tls;
  std::thread acceptThread;
  std::mutex mu;
  std::vector<std::thread> connections;
  std::set<int> fds;
  std::atomic<bool> stopping{false};
  std::atomic<int> openWatches{0};
  std::atomic<int> watchesStarted{0};
  std::uint16_t port = 0;

  void acceptLoop() {
    while (!stopping) {
      tcp::socket socket(io);
      boost::system::error_code ec;
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping) {
          return;
        }
        continue;
      }
      std::lock_guard lock(mu);
      if (stopping) {
        return;
      }
      fds.insert(socket.native_handle());
      connections.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(tcp::socket socket) {
    int fd = socket.native_handle();
    try {
      serveSocket(std::move(socket), fd);
    } catch (const std::exception&) {
      // A request that broke a rule of ours must not take the test down;
      // the client sees the connection close.
      forget(fd);
    }
  }

  void serveSocket(tcp::socket socket, int fd) {
    if (tls) {
      ssl::stream<tcp::socket> stream(std::move(socket), *tls);
      boost::system::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) {
        serveHttp(stream);
        stream.shutdown(ec);
      }
      forget(fd);
      stream.next_layer().close(ec);
    } else {
      serveHttp(socket);
      forget(fd);
      boost::system::error_code ec;
      socket.close(ec);
    }
  }

  void forget(int fd) {
    std::lock_guard lock(mu);
    fds.erase(fd);
  }

  template <typename Stream>
  void serveHttp(Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(8u << 20);
      boost::system::error_code ec;
      bhttp::read(stream, buffer, parser, ec);
      if (ec) {
        return;
      }
      auto& req = parser.get();
      FakeRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.body = req.body();
      request.contentType = std::string(req[bhttp::field::content_type]);
      request.authorization = std::string(req[bhttp::field::authorization]);
      if (FakeApiState::isWatchRequest(request)) {
        serveWatch(stream, request, req.version());
        return;  // a watch ends the connection, like the recordings
      }
      FakeResponse response;
      if (FakeApiState::isServiceProxyRequest(request)) {
        FakeApiState::ProxyTarget target;
        response = state.resolveServiceProxy(request, target);
        if (response.status == 0) {
          response = forwardServiceProxy(target, request);
        }
      } else {
        response = state.handle(request);
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status),
                                              req.version()};
      res.set(bhttp::field::content_type, response.contentType);
      res.set(bhttp::field::cache_control, "no-cache, private");
      res.body() = response.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(stream, res, ec);
      if (ec || !req.keep_alive()) {
        return;
      }
    }
  }

  template <typename Stream>
  void serveWatch(Stream& stream, const FakeRequest& request, unsigned version) {
    FakeApiState::Watch watch;
    std::vector<std::string> lines;
    bool ended = false;
    FakeResponse start = state.startWatch(request, watch, lines, ended);
    boost::system::error_code ec;
    if (start.status != 200) {
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(start.status), version};
      res.set(bhttp::field::content_type, start.contentType);
      res.body() = start.body;
      res.keep_alive(false);
      res.prepare_payload();
      bhttp::write(stream, res, ec);
      return;
    }
    ++openWatches;
    ++watchesStarted;
    struct Count {
      std::atomic<int>& n;
      ~Count() { --n; }
    } count{openWatches};
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, version};
    res.set(bhttp::field::cache_control, "no-cache, private");
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::connection, "close");
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    bhttp::write_header(stream, sr, ec);
    auto send = [&](std::vector<std::string>& batch) {
      for (const auto& line : batch) {
        boost::asio::write(stream, bhttp::make_chunk(boost::asio::buffer(line)), ec);
        if (ec) {
          return false;
        }
      }
      batch.clear();
      return true;
    };
    if (ec || !send(lines)) {
      return;
    }
    for (bool more = !ended; more;) {
      auto result = state.nextLines(watch, lines, options.bookmarkInterval);
      if (result == FakeApiState::WaitResult::kDropped ||
          result == FakeApiState::WaitResult::kStopped) {
        // An abrupt end: no last chunk, as when a connection breaks.
        beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      if (!send(lines)) {
        return;
      }
      more = result == FakeApiState::WaitResult::kLines;
    }
    boost::asio::write(stream, bhttp::make_chunk_last(), ec);
  }

  void stop() {
    stopping = true;
    state.stop();
    boost::system::error_code ec;
    // shutdown() wakes a blocking accept() on Linux; close() alone does not.
    ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    if (acceptThread.joinable()) {
      acceptThread.join();
    }
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu);
      for (int fd : fds) {
        ::shutdown(fd, SHUT_RDWR);
      }
      threads = std::move(connections);
    }
    for (auto& t : threads) {
      t.join();
    }
    acceptor.close(ec);
  }
};

FakeApiServer::FakeApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeApiServer::~FakeApiServer() { impl_->stop(); }

Result<std::unique_ptr<FakeApiServer>> FakeApiServer::start(const FakeApiServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    if (!options.certPem.empty()) {
      impl->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
      impl->tls->use_certificate_chain(boost::asio::buffer(options.certPem));
      impl->tls->use_private_key(boost::asio::buffer(options.keyPem), ssl::context::pem);
      if (!options.clientCaPem.empty()) {
        impl->tls->add_certificate_authority(boost::asio::buffer(options.clientCaPem));
        impl->tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      }
    }
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    impl->acceptor.open(endpoint.protocol());
    impl->acceptor.bind(endpoint);
    impl->acceptor.listen();
    impl->port = impl->acceptor.local_endpoint().port();
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, std::string("fake apiserver: ") + e.what());
  }
  auto* raw = impl.get();
  impl->acceptThread = std::thread([raw] { raw->acceptLoop(); });
  return std::unique_ptr<FakeApiServer>(new FakeApiServer(std::move(impl)));
}

std::uint16_t FakeApiServer::port() const { return impl_->port; }

std::string FakeApiServer::url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port);
}

FakeApiState& FakeApiServer::state() { return impl_->state; }

int FakeApiServer::openWatches() const { return impl_->openWatches; }

int FakeApiServer::watchesStarted() const { return impl_->watchesStarted; }

}  // namespace weft::testing
