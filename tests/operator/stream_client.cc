// StreamClient on Beast: async operations driven by run_one_until, so every
// wait has a deadline and nothing needs a second thread.
#include "tests/operator/stream_client.h"

#include "common/asio.h"
// Asio first (common/asio.h), then Beast.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace weft::op::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct StreamClient::Impl {
  net::io_context io;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  std::string pending;
  bool reading = false;
  bool closed = false;
  std::function<std::size_t(std::uint64_t, std::string_view, beast::error_code&)> onChunk;

  // Runs handlers until `done` or the deadline; true when done.
  template <typename F>
  bool runUntil(F done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      io.restart();
      io.run_one_until(deadline);
    }
    return true;
  }
};

StreamClient::StreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamClient::~StreamClient() = default;

std::unique_ptr<StreamClient> StreamClient::open(std::uint16_t port, const std::string& target,
                                                 const std::string& caPem, std::string* error,
                                                 std::chrono::milliseconds timeout,
                                                 const ClientCertificate& cert) {
  auto impl = std::make_unique<Impl>();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  beast::error_code ec;
  if (!caPem.empty()) {
    impl->ctx.add_certificate_authority(net::buffer(caPem), ec);
    impl->ctx.set_verify_mode(ssl::verify_peer);
    impl->ctx.set_verify_callback(ssl::host_name_verification("localhost"));
  } else {
    impl->ctx.set_verify_mode(ssl::verify_none);
  }
  if (!cert.chainPem.empty()) {
    impl->ctx.use_certificate_chain(net::buffer(cert.chainPem), ec);
    if (!ec) {
      impl->ctx.use_private_key(net::buffer(cert.keyPem), ssl::context::pem, ec);
    }
    if (ec) {
      if (error) {
        *error = "client certificate: " + ec.message();
      }
      return nullptr;
    }
  }
  impl->stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(impl->io, impl->ctx);
  SSL_set_tlsext_host_name(impl->stream->native_handle(), "localhost");
  auto fail = [&](const std::string& what) -> std::unique_ptr<StreamClient> {
    if (error) {
      *error = what;
    }
    return nullptr;
  };
  bool done = false;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  beast::get_lowest_layer(*impl->stream).async_connect(ep, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!impl->runUntil([&] { return done; }, deadline) || ec) {
    return fail("connect: " + (ec ? ec.message() : std::string("timeout")));
  }
  done = false;
  impl->stream->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!impl->runUntil([&] { return done; }, deadline) || ec) {
    return fail("handshake: " + (ec ? ec.message() : std::string("timeout")));
  }
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  done = false;
  http::async_write(*impl->stream, req, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!impl->runUntil([&] { return done; }, deadline) || ec) {
    return fail("write: " + (ec ? ec.message() : std::string("timeout")));
  }
  Impl* raw = impl.get();
  impl->parser.body_limit(64u << 20);
  impl->onChunk = [raw](std::uint64_t, std::string_view body, beast::error_code&) {
    raw->pending.append(body.data(), body.size());
    return body.size();
  };
  impl->parser.on_chunk_body(impl->onChunk);
  done = false;
  http::async_read_header(*impl->stream, impl->buffer, impl->parser,
                          [&](beast::error_code e, std::size_t) {
                            ec = e;
                            done = true;
                          });
  if (!impl->runUntil([&] { return done; }, deadline) || ec) {
    return fail("read header: " + (ec ? ec.message() : std::string("timeout")));
  }
  return std::unique_ptr<StreamClient>(new StreamClient(std::move(impl)));
}

int StreamClient::status() const { return impl_->parser.get().result_int(); }

bool StreamClient::closed() const { return impl_->closed; }

std::string StreamClient::readAll(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  http::async_read(*impl_->stream, impl_->buffer, impl_->parser,
                   [&](beast::error_code, std::size_t) { done = true; });
  impl_->runUntil([&] { return done; }, deadline);
  return impl_->parser.get().body();
}

std::optional<std::string> StreamClient::nextLine(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  Impl& s = *impl_;
  for (;;) {
    if (auto pos = s.pending.find('\n'); pos != std::string::npos) {
      std::string line = s.pending.substr(0, pos);
      s.pending.erase(0, pos + 1);
      return line;
    }
    if (s.closed) {
      return std::nullopt;
    }
    if (!s.reading) {
      s.reading = true;
      http::async_read_some(*s.stream, s.buffer, s.parser, [&s](beast::error_code ec, std::size_t) {
        s.reading = false;
        if (ec || s.parser.is_done()) {
          s.closed = true;
        }
      });
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    s.io.restart();
    s.io.run_one_until(deadline);
  }
}

HttpAnswer httpGet(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  net::io_context io;
  beast::tcp_stream stream(io);
  HttpAnswer answer;
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::response<http::string_body> res;
  stream.expires_after(timeout);
  stream.async_connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
        if (ec) {
          return;
        }
        http::async_write(stream, req, [&](beast::error_code ec2, std::size_t) {
          if (ec2) {
            return;
          }
          http::async_read(stream, buffer, res, [&](beast::error_code ec3, std::size_t) {
            if (!ec3) {
              answer.status = res.result_int();
              answer.body = res.body();
            }
          });
        });
      });
  io.run_for(timeout + std::chrono::milliseconds(100));
  return answer;
}

}  // namespace weft::op::testing
