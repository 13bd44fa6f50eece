// The HTTP/1.1 client loop: hardened request parsing, the header-read
// timeout, and one Exchange per request; plus the proxy's own error answers.
#include "proxy/src/http/http1_proxy.h"

#include <limits>
#include <string>

#include <boost/beast/http.hpp>

#include "common/log/log.h"
#include "proxy/src/http/exchange.h"
#include "proxy/src/http/framing.h"
#include "proxy/src/net/address.h"

namespace weft::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Beast 1.74 compares the length with an empty optional and always fails, so
// "no limit" has to be spelled as the largest value.
constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();
// Time a slow client gets to read our 408 before the connection closes.
constexpr std::chrono::milliseconds kTimeoutAnswerGrace{1000};

const std::shared_ptr<spdlog::logger>& logger() {
  static auto l = log::get("proxy.http");
  return l;
}

}  // namespace

asio::awaitable<void> sendError(net::WorkerContext& ctx, net::LiveConnection& live,
                                net::Stream& client, unsigned status, ErrorReason reason,
                                std::string_view detail, bool keepAlive, unsigned version) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status),
                                          version < 10 ? 11u : version};
  res.set("weft-error", metrics::toString(reason));
  res.set(bhttp::field::content_type, "text/plain");
  res.body() = std::string(detail) + "\n";
  res.keep_alive(keepAlive);
  res.prepare_payload();
  ctx.metrics.errorByReason[static_cast<std::size_t>(reason)]->inc();
  logger()->debug("{} {}: {}", status, metrics::toString(reason), detail);
  boost::system::error_code ec;
  live.expireClientAfter(ctx.settings.clientIdle);
  co_await bhttp::async_write(client, res, ecTok(ec));
}

asio::awaitable<void> serveHttp1(net::WorkerContext& ctx, net::LiveConnection& live,
                                 net::Stream& client, beast::flat_buffer& buffer, ConnInfo info) {
  Chunk chunk;
  config::SnapshotPtr table = ctx.table;
  Limits limits;
  limits.maxHeaderBytes = ctx.settings.maxHeaderBytes;
  limits.maxHeaders = ctx.settings.maxHeaders;
  beast::flat_buffer upBuffer;
  for (;;) {
    boost::system::error_code ec;
    if (buffer.size() == 0) {
      if (ctx.draining) {
        co_return;
      }
      live.idle = true;
      live.expireClientAfter(ctx.settings.clientIdle);
      std::size_t n = co_await client.async_read_some(buffer.prepare(4096), ecTok(ec));
      live.idle = false;
      if (ec) {
        co_return;
      }
      buffer.commit(n);
    }
    // A request keeps the config it started with; a new one takes the latest.
    if (table.get() != ctx.table.get()) {
      table = ctx.table;
    }
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.maxHeaderBytes));
    parser.body_limit(kUnlimited);
    // On expiry the sweep only cancels the read, so the client still hears why.
    live.expireClientAfter(ctx.settings.headerTimeout, /*cancelOnly=*/true);
    co_await bhttp::async_read_header(client, buffer, parser, ecTok(ec));
    if (ec && live.timedOut) {
      logger()->debug("{}: request headers not received in time", net::toString(info.peer));
      live.expireClientAfter(kTimeoutAnswerGrace);
      co_await sendError(ctx, live, client, 408, ErrorReason::kHeaderTimeout,
                         "request headers not received in time", false, 11);
      co_return;
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      co_await sendError(ctx, live, client, 400, ErrorReason::kBadRequest,
                         "malformed request: " + ec.message(), false, 11);
      co_return;
    }
    auto& req = parser.get();
    if (auto bad = checkRequest(req, req.version(), req.target(), limits)) {
      co_await sendError(ctx, live, client, 400, ErrorReason::kBadRequest, *bad, false,
                         req.version());
      co_return;
    }
    if (table == nullptr) {
      co_await sendError(ctx, live, client, 503, ErrorReason::kNoEndpoints, "no configuration yet",
                         false, req.version());
      co_return;
    }
    live.expireNever();
    Exchange exchange(ctx, live, client, buffer, upBuffer, info, *table, parser, chunk);
    bool keep = co_await exchange.run();
    if (!keep) {
      co_return;
    }
  }
}

}  // namespace weft::proxy::http
