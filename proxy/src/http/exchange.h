// Internal to http/: one request from its header to the end of its response.
// exchange.cc routes it and runs the retry loop, attempt.cc makes one try on
// one endpoint, body.cc streams bodies and tunnels, errors.cc answers for the
// proxy. Runs on the connection's worker; the coroutine frame owns it.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "proxy/src/http/http1_proxy.h"
#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/metrics/proxy_metrics.h"
#include "proxy/src/net/context.h"
#include "proxy/src/resilience/limits.h"
#include "proxy/src/resilience/retry.h"
#include "proxy/src/route/headers.h"
#include "proxy/src/route/route_table.h"

namespace weft::proxy::http {

namespace bhttp = boost::beast::http;
using RequestParser = bhttp::request_parser<bhttp::buffer_body>;
using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;
using metrics::ErrorReason;

inline constexpr std::size_t kChunk = 16 * 1024;
using Chunk = std::array<char, kChunk>;

// Routing's view of Beast fields (route/ knows nothing of Beast).
class FieldsView final : public route::HeaderMap {
 public:
  explicit FieldsView(bhttp::fields& f) : f_(f) {}
  // route::HeaderMap
  std::optional<std::string_view> get(std::string_view name) const override;
  void set(std::string_view name, std::string_view value) override;
  void add(std::string_view name, std::string_view value) override;
  void remove(std::string_view name) override;

 private:
  bhttp::fields& f_;
};

// A response the proxy makes itself: status, `weft-error: <reason>`, one line
// of body, a debug log line and a count by reason. The one place proxy
// failures become HTTP.
boost::asio::awaitable<void> sendError(net::WorkerContext& ctx, net::LiveConnection& live,
                                       net::Stream& client, unsigned status, ErrorReason reason,
                                       std::string_view detail, bool keepAlive, unsigned version);

// What one try ended with, when it did not produce a response to relay.
struct TryFailure {
  unsigned status = 502;
  ErrorReason reason = ErrorReason::kUpstreamProtocolError;
  std::string detail;
};

class Exchange {
 public:
  Exchange(net::WorkerContext& ctx, net::LiveConnection& live, net::Stream& client,
           boost::beast::flat_buffer& buffer, boost::beast::flat_buffer& upBuffer,
           const ConnInfo& info, const config::Snapshot& table, RequestParser& parser,
           Chunk& chunk);

  // Whether the client connection may carry another request.
  boost::asio::awaitable<bool> run();

 private:
  // exchange.cc
  boost::asio::awaitable<bool> resolve();
  bool isProbe() const;
  std::optional<std::string> authorize();
  boost::asio::awaitable<bool> fail(unsigned status, ErrorReason reason, std::string_view detail);
  boost::asio::awaitable<bool> finish(const TryFailure& f) {
    return fail(f.status, f.reason, f.detail);
  }
  boost::asio::awaitable<void> sleep(Clock::Duration d);
  void completeTry();
  bool clientMayContinue() const { return keepClient_ && parser_.is_done(); }

  // attempt.cc: one try. kTried: outcome_ says what happened, and either a
  // response head waits in rp_ (connection in upstream_) or `failure`
  // describes the error. kFinal: `failure` is the answer, no retry (no
  // endpoint, a limit, a bad client body). kClientGone: nothing more to do.
  enum class TryEnd { kTried, kFinal, kClientGone };
  boost::asio::awaitable<TryEnd> attempt(TryFailure& failure);
  boost::asio::awaitable<bool> pickEndpoint(TryFailure& failure);
  boost::asio::awaitable<TryEnd> sendRequest(TryFailure& failure);
  boost::asio::awaitable<void> readResponseHead(TryFailure& failure);
  boost::asio::awaitable<bool> handshake(TryFailure& failure);
  std::string expectedIdentity() const;

  // body.cc
  boost::asio::awaitable<std::size_t> readBodyPiece(boost::system::error_code& ec);
  boost::asio::awaitable<bool> readReplayBody();
  boost::asio::awaitable<bool> writeContinue();
  // Sends the header, then relays the body piece by piece. `upstreamEc` is a
  // failed write; `clientFailed` a body that broke on the client's side.
  boost::asio::awaitable<void> streamRequestBody(boost::system::error_code& upstreamEc,
                                                 bool& clientFailed);
  boost::asio::awaitable<bool> relayResponse();
  boost::asio::awaitable<bool> tunnel();

  net::WorkerContext& ctx_;
  net::LiveConnection& live_;
  net::Stream& client_;
  boost::beast::flat_buffer& buffer_;
  const ConnInfo& info_;
  const config::Snapshot& table_;
  RequestParser& parser_;
  bhttp::request<bhttp::buffer_body>& req_;
  Chunk& chunk_;
  net::SteadyClock::time_point start_;

  // Where the request goes (resolve()).
  const api::Outbound* out_ = nullptr;
  const config::CompiledOutbound* compiled_ = nullptr;
  config::SnapshotPtr pinned_;  // keeps out_ alive when it came from a newer snapshot
  std::shared_ptr<net::Destination> dest_;
  const std::string* backendName_ = nullptr;  // owned by the snapshot
  net::Tcp::endpoint direct_;
  const route::Route* route_ = nullptr;
  metrics::DestinationSeries* series_ = nullptr;
  const resilience::RetrySettings* retrySettings_ = nullptr;  // static or the snapshot's
  net::SteadyClock::time_point deadline_ = net::SteadyClock::time_point::max();
  std::optional<resilience::LimitGuard> requestSlot_;

  // Request state.
  bool upgrade_ = false;
  bool keepClient_ = false;
  bool needContinue_ = false;
  bool sentContinue_ = false;
  bool hasBody_ = false;
  bool bodyConsumed_ = false;  // part of a streamed body left the client: no retry
  std::optional<std::string> replay_;
  std::vector<std::string> tried_;  // endpoints already tried, filled only on a retry

  // The current try.
  std::optional<lb::EndpointHandle> handle_;
  net::ConnectionPool::Entry* entry_ = nullptr;
  std::optional<net::UpstreamConnection> upstream_;
  boost::beast::flat_buffer& upBuffer_;  // per connection, so reused across requests
  std::optional<ResponseParser> rp_;
  resilience::AttemptOutcome outcome_;
  bool staleConnection_ = false;  // a pooled connection had closed: not an attempt
  bool reused_ = false;           // the try uses a pooled connection

  // Ends the current try: cancels an unfinished balancer claim, returns the
  // pool entry, drops the connection unless it was pooled.
  void endTry();
};

}  // namespace weft::proxy::http
