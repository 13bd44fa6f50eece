// The HTTPS probe on Beast, in a private io_context run to completion.
#include "cli/src/tls_probe.h"

#include <exception>
#include <optional>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/asio.h"
#include "common/http/server.h"

namespace weft::cli {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxBody = 64 * 1024;

std::string describe(const boost::system::error_code& ec) {
  return ec == beast::error::timeout ? "timed out" : ec.message();
}

ErrorCode connectCode(const boost::system::error_code& ec) {
  return ec == beast::error::timeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
}

asio::awaitable<Result<HttpsProbe>> run(const ProbeTarget& target,
                                        beast::ssl_stream<beast::tcp_stream>& stream,
                                        std::chrono::milliseconds connectTimeout,
                                        std::chrono::milliseconds timeout) {
  std::string where = target.host + ":" + std::to_string(target.port);
  boost::system::error_code ec;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  // A name lookup has no deadline of its own in Asio: a timer cancels it.
  asio::steady_timer resolveTimer(executor, connectTimeout);
  resolveTimer.async_wait([&resolver](const boost::system::error_code& e) {
    if (!e) {
      resolver.cancel();
    }
  });
  auto endpoints =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), ecTok(ec));
  resolveTimer.cancel();
  if (ec) {
    co_return makeError(ErrorCode::kUnavailable,
                        "cannot resolve " + target.host + ": " + describe(ec));
  }
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(connectTimeout);
  co_await socket.async_connect(endpoints, ecTok(ec));
  if (ec) {
    co_return makeError(connectCode(ec), "connecting to " + where + ": " + describe(ec));
  }
  socket.expires_after(timeout);
  co_await stream.async_handshake(ssl::stream_base::client, ecTok(ec));
  if (ec) {
    co_return makeError(ErrorCode::kIo, "TLS handshake with " + where + ": " + describe(ec));
  }
  HttpsProbe out;
  if (STACK_OF(X509)* presented = SSL_get_peer_cert_chain(stream.native_handle())) {
    for (int i = 0; i < sk_X509_num(presented); ++i) {
      X509* cert = sk_X509_value(presented, i);
      X509_up_ref(cert);
      out.chain.emplace_back(cert);
    }
  }
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target.path, 11};
  req.set(bhttp::field::host, target.serverName);
  req.set(bhttp::field::user_agent, "weftctl");
  req.keep_alive(false);
  co_await bhttp::async_write(stream, req, ecTok(ec));
  if (ec) {
    co_return makeError(ErrorCode::kIo,
                        "sending GET " + target.path + " to " + where + ": " + describe(ec));
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBody);
  co_await bhttp::async_read(stream, buffer, parser, ecTok(ec));
  if (ec) {
    co_return makeError(ErrorCode::kIo, "reading the answer to GET " + target.path + " from " +
                                            where + ": " + describe(ec));
  }
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  // No close_notify exchange: the request asked the server to close, and a
  // peer that never answers one would hold us until the deadline.
  co_return out;
}

asio::awaitable<void> runInto(const ProbeTarget& target,
                              beast::ssl_stream<beast::tcp_stream>& stream,
                              std::chrono::milliseconds connectTimeout,
                              std::chrono::milliseconds timeout,
                              std::optional<Result<HttpsProbe>>& out) {
  out.emplace(co_await run(target, stream, connectTimeout, timeout));
}

}  // namespace

Result<HttpsProbe> probeHttps(const ProbeTarget& target, std::chrono::milliseconds connectTimeout,
                              std::chrono::milliseconds timeout) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  if (!target.serverName.empty() &&
      SSL_set_tlsext_host_name(stream.native_handle(), target.serverName.c_str()) != 1) {
    return makeError(ErrorCode::kInvalidArgument, "bad server name " + target.serverName);
  }
  std::optional<Result<HttpsProbe>> result;
  std::exception_ptr failure;
  asio::co_spawn(io, runInto(target, stream, connectTimeout, timeout, result),
                 [&failure](std::exception_ptr e) { failure = e; });
  // Every step has its own deadline; this bound only guards against a bug.
  io.run_for(connectTimeout + timeout + std::chrono::seconds(1));
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kInternal, std::string("HTTPS probe: ") + e.what());
    }
  }
  if (!result) {
    return makeError(ErrorCode::kTimeout, "no answer from " + target.host + ":" +
                                              std::to_string(target.port) + " in time");
  }
  return std::move(*result);
}

Result<ProbeTarget> parseHostPort(const std::string& address) {
  auto hostPort = http::parseHostPort(address);
  if (!hostPort || hostPort->second == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "\"" + address + "\" is not HOST:PORT with a port from 1 to 65535");
  }
  ProbeTarget out;
  out.host = hostPort->first;
  out.port = hostPort->second;
  return out;
}

}  // namespace weft::cli
