// A small HTTPS server streaming NDJSON for the discovery client tests.
#include "tests/proxy/discovery/fake_discovery_server.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "common/asio.h"

namespace weft::proxy::discovery::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = ssl::stream<tcp::socket>;

}  // namespace

struct FakeDiscoveryServer::Impl {
  ssl::context tls{ssl::context::tls_server};
  struct Conn {
    std::unique_ptr<Stream> stream;
    std::string target;
  };
  std::vector<Conn> open;  // on the io_context thread only

  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> requests;  // guarded by mu
  std::atomic<int> status{200};

  std::thread thread;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};

  void count(const std::string& target) {
    {
      std::lock_guard lock(mu);
      ++requests[target];
    }
    cv.notify_all();
  }

  asio::awaitable<void> acceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        co_return;
      }
      asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ec;
    auto stream = std::make_unique<Stream>(std::move(socket), tls);
    co_await stream->async_handshake(ssl::stream_base::server,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    std::string head;
    co_await asio::async_read_until(*stream, asio::dynamic_buffer(head, 16384), "\r\n\r\n",
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    const auto sp1 = head.find(' ');
    const auto sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      co_return;
    }
    std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const int answer = status.load();
    if (answer != 200) {
      std::string response = "HTTP/1.1 " + std::to_string(answer) +
                             " Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      co_await asio::async_write(*stream, asio::buffer(response),
                                 asio::redirect_error(asio::use_awaitable, ec));
      count(target);
      co_return;
    }
    static const std::string kHeader =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: "
        "chunked\r\n\r\n";
    co_await asio::async_write(*stream, asio::buffer(kHeader),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    open.push_back(Conn{std::move(stream), target});
    count(target);
  }

  // Runs `fn` on the server thread and waits for its result.
  template <typename F>
  auto run(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(ioc, [&task] { task(); });
    result.wait();
    return result.get();
  }
};

FakeDiscoveryServer::FakeDiscoveryServer(const TestCert& cert) : impl_(std::make_unique<Impl>()) {
  impl_->tls.use_certificate_chain(asio::buffer(cert.certPem));
  impl_->tls.use_private_key(asio::buffer(cert.keyPem), ssl::context::pem);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->ioc, impl_->acceptLoop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

FakeDiscoveryServer::~FakeDiscoveryServer() {
  impl_->run([impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->open.clear();
    return 0;
  });
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t FakeDiscoveryServer::port() const { return impl_->acceptor.local_endpoint().port(); }

int FakeDiscoveryServer::requests(const std::string& target) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->requests.find(target);
  return it == impl_->requests.end() ? 0 : it->second;
}

bool FakeDiscoveryServer::waitForRequests(const std::string& target, int count,
                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->requests[target] >= count; });
}

int FakeDiscoveryServer::send(const std::string& target, const std::string& bytes) {
  return impl_->run([impl = impl_.get(), &target, &bytes] {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", bytes.size());
    const std::string chunk = size + bytes + "\r\n";
    int sent = 0;
    for (auto it = impl->open.begin(); it != impl->open.end();) {
      if (it->target != target) {
        ++it;
        continue;
      }
      boost::system::error_code ec;
      // No async operation is pending on an open stream, so a blocking write is safe here.
      asio::write(*it->stream, asio::buffer(chunk), ec);
      if (ec) {
        it = impl->open.erase(it);
        continue;
      }
      ++sent;
      ++it;
    }
    return sent;
  });
}

void FakeDiscoveryServer::dropAll() {
  impl_->run([impl = impl_.get()] {
    for (auto& conn : impl->open) {
      boost::system::error_code ec;
      conn.stream->lowest_layer().close(ec);
    }
    impl->open.clear();
    return 0;
  });
}

void FakeDiscoveryServer::setStatus(int status) { impl_->status.store(status); }

}  // namespace weft::proxy::discovery::testing
