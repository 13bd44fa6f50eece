// The HTTP/1.1 request path: client loop, destination choice, attempts with
// retries, streaming relay of bodies, upgrade tunnels and proxy errors.
#include "proxy/src/http/http1_proxy.h"

// GCC 12 misreads Asio's coroutine frame allocator (recycling new/delete) as
// a mismatch in some frames; a known false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <array>
#include <limits>
#include <optional>
#include <string>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include "common/log/log.h"
#include "proxy/src/http/framing.h"
#include "proxy/src/http/route_select.h"
#include "proxy/src/net/address.h"
#include "proxy/src/tcp/relay.h"

namespace weft::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using metrics::ErrorReason;
using net::SteadyClock;
using Ms = std::chrono::milliseconds;

constexpr std::size_t kChunk = 16 * 1024;
constexpr int kMaxInformational = 8;
// Beast 1.74 compares the length with an empty optional and always fails, so
// "no limit" has to be spelled as the largest value.
constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

const std::shared_ptr<spdlog::logger>& logger() {
  static auto l = log::get("proxy.http");
  return l;
}

constexpr auto kFirstDocumentWaitStep = std::chrono::milliseconds(10);
constexpr int kFirstDocumentWaitSteps = 100;

auto ecTok(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// A response the proxy makes itself: status, `weft-error: <reason>`, one line
// of body, a debug log line and a count by reason.
asio::awaitable<void> sendError(net::WorkerContext& ctx, net::LiveConnection& live,
                                net::Tcp::socket& client, unsigned status, ErrorReason reason,
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

bool retryOnHas(const api::Retries& r, api::RetryOn::Kind kind) {
  for (const auto& o : r.on) {
    if (o.kind == kind) {
      return true;
    }
  }
  return false;
}

bool retryOnStatus(const api::Retries& r, unsigned status) {
  for (const auto& o : r.on) {
    switch (o.kind) {
      case api::RetryOn::Kind::kStatus:
        if (static_cast<unsigned>(o.status) == status) {
          return true;
        }
        break;
      case api::RetryOn::Kind::kServerError:
        if (status >= 500 && status < 600) {
          return true;
        }
        break;
      case api::RetryOn::Kind::kGatewayError:
        if (status == 502 || status == 503 || status == 504) {
          return true;
        }
        break;
      default:
        break;
    }
  }
  return false;
}

void applyHeaders(bhttp::fields& f, const api::HeaderModifier& m) {
  for (const auto& n : m.remove) {
    f.erase(n);
  }
  for (const auto& [k, v] : m.set) {
    f.set(k, v);
  }
  for (const auto& [k, v] : m.add) {
    f.insert(k, v);
  }
}

// Counts a request against a destination's concurrency limit while alive.
class ActiveGuard {
 public:
  explicit ActiveGuard(int& n) : n_(n) { ++n_; }
  ~ActiveGuard() { --n_; }
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;

 private:
  int& n_;
};

// The policy every request without a document gets (passthrough, inbound).
const api::Policy& defaultPolicy() {
  static const api::Policy p;
  return p;
}

using RequestParser = bhttp::request_parser<bhttp::buffer_body>;
using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;

// One request from header to the end of its response. Returns whether the
// client connection may carry another request.
class Exchange {
 public:
  Exchange(net::WorkerContext& ctx, net::LiveConnection& live, net::Tcp::socket& client,
           beast::flat_buffer& buffer, beast::flat_buffer& upBuffer, const ConnInfo& info,
           const config::Snapshot& table, RequestParser& parser, std::array<char, kChunk>& chunk)
      : ctx_(ctx),
        live_(live),
        client_(client),
        upBuffer_(upBuffer),
        buffer_(buffer),
        info_(info),
        table_(table),
        parser_(parser),
        req_(parser.get()),
        chunk_(chunk),
        start_(SteadyClock::now()) {}

  asio::awaitable<bool> run();

 private:
  asio::awaitable<bool> fail(unsigned status, ErrorReason reason, std::string_view detail);
  asio::awaitable<std::size_t> readBodyPiece(boost::system::error_code& ec);
  asio::awaitable<bool> readReplayBody();
  asio::awaitable<bool> streamRequestBody(net::Tcp::socket& up, boost::system::error_code& ec);
  asio::awaitable<bool> relayResponse(net::Tcp::socket& up, beast::flat_buffer& upBuffer,
                                      ResponseParser& rp, net::EndpointState& es);
  asio::awaitable<bool> tunnel(net::Tcp::socket& up, beast::flat_buffer& upBuffer,
                               ResponseParser& rp);
  bool clientMayContinue() const { return keepClient_ && parser_.is_done(); }

  net::WorkerContext& ctx_;
  net::LiveConnection& live_;
  net::Tcp::socket& client_;
  beast::flat_buffer& upBuffer_;
  beast::flat_buffer& buffer_;
  const ConnInfo& info_;
  const config::Snapshot& table_;
  RequestParser& parser_;
  bhttp::request<bhttp::buffer_body>& req_;
  std::array<char, kChunk>& chunk_;
  SteadyClock::time_point start_;
  metrics::DestinationSeries* series_ = nullptr;
  const api::Route* route_ = nullptr;
  bool keepClient_ = false;
  bool sentContinue_ = false;
  bool needContinue_ = false;
  bool clientSawResponse_ = false;
  std::optional<std::string> replay_;
};

asio::awaitable<bool> Exchange::fail(unsigned status, ErrorReason reason, std::string_view detail) {
  if (series_ != nullptr) {
    series_->byStatus(status).inc();
  }
  bool keep = clientMayContinue();
  co_await sendError(ctx_, live_, client_, status, reason, detail, keep, req_.version());
  co_return keep;
}

// Reads the next piece of the request body into chunk_; returns its size.
asio::awaitable<std::size_t> Exchange::readBodyPiece(boost::system::error_code& ec) {
  req_.body().data = chunk_.data();
  req_.body().size = chunk_.size();
  live_.expireClientAfter(ctx_.settings.clientIdle);
  co_await bhttp::async_read(client_, buffer_, parser_, ecTok(ec));
  if (ec == bhttp::error::need_buffer) {
    ec = {};
  }
  co_return chunk_.size() - req_.body().size;
}

asio::awaitable<bool> Exchange::readReplayBody() {
  replay_.emplace();
  while (!parser_.is_done()) {
    boost::system::error_code ec;
    std::size_t n = co_await readBodyPiece(ec);
    if (ec) {
      co_return false;
    }
    replay_->append(chunk_.data(), n);
  }
  co_return true;
}

// Beast's relay pattern: read a piece of the body, write it on, until done.
asio::awaitable<bool> Exchange::streamRequestBody(net::Tcp::socket& up,
                                                  boost::system::error_code& ec) {
  bhttp::serializer<true, bhttp::buffer_body> sr{req_};
  req_.body().data = nullptr;
  req_.body().more = true;
  live_.expireUpstreamAt(net::SteadyClock::now() + ctx_.settings.clientIdle);
  co_await bhttp::async_write_header(up, sr, ecTok(ec));
  if (ec) {
    co_return false;
  }
  do {
    if (!parser_.is_done()) {
      boost::system::error_code rec;
      std::size_t n = co_await readBodyPiece(rec);
      if (rec) {
        // Malformed chunking or a vanished client: the upstream connection
        // holds half a request and must never be reused.
        ec = rec;
        co_return true;
      }
      req_.body().size = n;
      req_.body().data = chunk_.data();
      req_.body().more = !parser_.is_done();
    } else {
      req_.body().data = nullptr;
      req_.body().size = 0;
      req_.body().more = false;
    }
    live_.expireUpstreamAt(net::SteadyClock::now() + ctx_.settings.clientIdle);
    co_await bhttp::async_write(up, sr, ecTok(ec));
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return false;
    }
  } while (!sr.is_done());
  co_return true;
}

asio::awaitable<bool> Exchange::tunnel(net::Tcp::socket& up, beast::flat_buffer& upBuffer,
                                       ResponseParser& rp) {
  auto& res = rp.get();
  bhttp::serializer<false, bhttp::buffer_body> sr{res};
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  boost::system::error_code ec;
  live_.expireClientAfter(ctx_.settings.clientIdle);
  co_await bhttp::async_write(client_, sr, ecTok(ec));
  series_->byStatus(101).inc();
  if (ec) {
    co_return false;
  }
  // Bytes already read past the headers belong to the new protocol.
  if (buffer_.size() > 0) {
    co_await asio::async_write(up, buffer_.data(), ecTok(ec));
    buffer_.consume(buffer_.size());
  }
  if (!ec && upBuffer.size() > 0) {
    co_await asio::async_write(client_, upBuffer.data(), ecTok(ec));
    upBuffer.consume(upBuffer.size());
  }
  if (ec) {
    co_return false;
  }
  live_.expireNever();
  co_await tcp::relay(client_, up, ctx_.settings.clientIdle, {});
  co_return false;
}

asio::awaitable<bool> Exchange::relayResponse(net::Tcp::socket& up, beast::flat_buffer& upBuffer,
                                              ResponseParser& rp, net::EndpointState& es) {
  auto& res = rp.get();
  unsigned status = res.result_int();
  bool upstreamReusable = rp.keep_alive();
  removeHopByHop(res, false);
  if (route_ != nullptr) {
    applyHeaders(res, route_->responseHeaders);
  }
  bool keep = keepClient_ && !rp.need_eof() && !ctx_.draining;
  res.keep_alive(keep);
  series_->byStatus(status).inc();
  clientSawResponse_ = true;

  bhttp::serializer<false, bhttp::buffer_body> sr{res};
  // The header goes out with the first piece of body (one write for a small
  // response already buffered), as in Beast's relay example.
  boost::system::error_code ec;
  do {
    if (!rp.is_done()) {
      res.body().data = chunk_.data();
      res.body().size = chunk_.size();
      live_.expireUpstreamAt(net::SteadyClock::now() + ctx_.settings.clientIdle);
      co_await bhttp::async_read(up, upBuffer, rp, ecTok(ec));
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec && !(ec == bhttp::error::end_of_stream && rp.is_done())) {
        // Half a response is out: all we can do is cut the client off.
        co_return false;
      }
      res.body().size = chunk_.size() - res.body().size;
      res.body().data = chunk_.data();
      res.body().more = !rp.is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
    }
    live_.expireClientAfter(ctx_.settings.clientIdle);
    co_await bhttp::async_write(client_, sr, ecTok(ec));
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return false;
    }
  } while (!sr.is_done());
  live_.expireNever();
  if (upstreamReusable && rp.is_done() && upBuffer.size() == 0 && up.is_open()) {
    ctx_.upstreams.putIdle(es, std::move(up), ctx_.settings.maxIdlePerEndpoint);
  }
  co_return keep&& parser_.is_done();
}

asio::awaitable<bool> Exchange::run() {
  bool upgrade = isUpgrade(req_);
  keepClient_ = req_.keep_alive() && !ctx_.draining && !upgrade;

  // Destination: a known service named by Host, else by the original
  // destination address, else the original destination itself.
  const api::Outbound* out = nullptr;
  config::SnapshotPtr pinned;  // keeps `out` alive when it comes from a newer snapshot
  std::string destName;
  net::Tcp::endpoint direct;
  bool haveDirect = false;
  if (info_.inbound) {
    direct = net::Tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), info_.originalDst.port());
    haveDirect = info_.redirected;
    destName = std::to_string(info_.originalDst.port());
  } else {
    out = table_.findOutbound(req_[bhttp::field::host], info_.originalDst.port());
    if (out == nullptr) {
      out = table_.findOutbound(net::toString(info_.originalDst));
    }
    if (out != nullptr) {
      destName = out->authority;
    } else {
      auto host = req_[bhttp::field::host];
      if (!host.empty()) {
        bool hasPort = host.find(':') != std::string_view::npos && host.back() != ']';
        bool fresh = ctx_.subscribeOnce(hasPort ? std::string(host)
                                                : std::string(host) + ":" +
                                                      std::to_string(info_.originalDst.port()));
        // The first request to a new destination waits briefly for its
        // document instead of failing while the subscription is in flight.
        for (int step = 0; fresh && out == nullptr && step < kFirstDocumentWaitSteps; ++step) {
          asio::steady_timer t(client_.get_executor(), kFirstDocumentWaitStep);
          boost::system::error_code ec;
          co_await t.async_wait(ecTok(ec));
          pinned = ctx_.table;
          out = pinned->findOutbound(host, info_.originalDst.port());
        }
      }
      if (out != nullptr) {
        destName = out->authority;
      } else {
        direct = info_.originalDst;
        haveDirect = info_.redirected;
        destName = "passthrough";
      }
    }
  }
  ctx_.upstreams.evictIdle();
  series_ = &ctx_.series.get(info_.inbound, destName);
  if (out == nullptr && !haveDirect) {
    co_return co_await fail(502, ErrorReason::kNoRoute,
                            "no known service for this Host and no original destination");
  }
  const api::Policy& policy = out != nullptr ? out->policy : defaultPolicy();
  auto& dest = ctx_.upstreams.destination(destName);
  if (dest.activeRequests >= ctx_.upstreams.share(policy.circuitBreaker.maxRequests)) {
    co_return co_await fail(503, ErrorReason::kOverloaded, "too many concurrent requests");
  }
  ActiveGuard active(dest.activeRequests);
  ctx_.metrics.httpActive.add(1);
  struct GaugeGuard {
    metrics::Gauge& g;
    ~GaugeGuard() { g.add(-1); }
  } gaugeGuard{ctx_.metrics.httpActive};
  ctx_.upstreams.depositRequest(dest, policy.retries.budget);

  const api::Backend* backend = nullptr;
  // Copied only when a route overrides it (the common case allocates nothing).
  const api::Retries* retriesPtr = &policy.retries;
  std::optional<api::Retries> overridden;
  Ms requestTimeout = policy.timeouts.request;
  if (out != nullptr) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    auto sel = selectBackend(*out, req_.method_string(), req_.target(), req_, rng);
    route_ = sel.route;
    backend = sel.backend;
    if (backend == nullptr) {
      co_return co_await fail(503, ErrorReason::kNoEndpoints,
                              "no endpoints for backend " + sel.backendName);
    }
    if (route_ != nullptr) {
      if (route_->retries) {
        overridden = api::applyOverride(policy.retries, *route_->retries);
        retriesPtr = &*overridden;
      }
      if (route_->timeout) {
        requestTimeout = *route_->timeout;
      }
      applyHeaders(req_, route_->requestHeaders);
      if (route_->fault) {
        const auto& fault = *route_->fault;
        std::uniform_real_distribution<double> percent(0, 100);
        if (fault.delay && percent(rng) < fault.delay->percent) {
          boost::system::error_code ec;
          asio::steady_timer t(client_.get_executor(), fault.delay->duration);
          co_await t.async_wait(ecTok(ec));
        }
        if (fault.abort && percent(rng) < fault.abort->percent) {
          co_return co_await fail(static_cast<unsigned>(fault.abort->status),
                                  ErrorReason::kFaultInjected,
                                  "fault injected by route " + route_->name);
        }
      }
    }
  }
  const api::Retries& retries = *retriesPtr;
  auto deadline =
      requestTimeout.count() > 0 ? start_ + requestTimeout : SteadyClock::time_point::max();

  removeHopByHop(req_, upgrade);
  if (beast::iequals(req_[bhttp::field::expect], "100-continue")) {
    req_.erase(bhttp::field::expect);
    needContinue_ = !parser_.is_done() && req_.version() >= 11;
  }
  bool idempotent = isIdempotent(req_.method()) || retries.nonIdempotent;
  bool hasBody = !parser_.is_done();
  auto length = parser_.content_length();
  bool replayable =
      !hasBody || (!parser_.chunked() && length && *length <= ctx_.settings.replayBytes);
  if (hasBody && replayable) {
    if (needContinue_) {
      boost::system::error_code ec;
      live_.expireClientAfter(ctx_.settings.clientIdle);
      co_await asio::async_write(client_, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n", 25),
                                 ecTok(ec));
      sentContinue_ = true;
      if (ec) {
        co_return false;
      }
    }
    if (!co_await readReplayBody()) {
      co_return co_await fail(400, ErrorReason::kBadRequest, "malformed request body");
    }
  }

  const api::Timeouts& timeouts = policy.timeouts;
  std::vector<net::EndpointState*> tried;
  tried.reserve(4);
  int attempt = 0;
  bool freshRetry = false;  // a stale pooled connection does not cost an attempt
  for (;;) {
    if (!freshRetry) {
      ++attempt;
    }
    bool reusedConn = false;
    net::EndpointState* es = nullptr;
    if (out != nullptr) {
      net::PickFailure why = net::PickFailure::kNone;
      es = ctx_.upstreams.pick(*backend, policy, tried, why);
      if (es == nullptr) {
        co_return co_await fail(503,
                                why == net::PickFailure::kAllEjected ? ErrorReason::kAllEjected
                                                                     : ErrorReason::kNoEndpoints,
                                why == net::PickFailure::kAllEjected
                                    ? "every endpoint is ejected"
                                    : "no ready endpoints for " + destName);
      }
    } else {
      es = &ctx_.upstreams.endpoint(direct);
    }
    tried.push_back(es);
    // Counted from the pick on: the balancer sees connecting requests as load,
    // and an endpoint in use is never evicted (Upstreams::evictIdle).
    ++es->inflight;
    struct InflightGuard {
      int& n;
      ~InflightGuard() { --n; }
    } inflightGuard{es->inflight};

    // What went wrong in this try, and whether a retry may fix it.
    enum class Outcome { kRetry, kFail } outcome = Outcome::kFail;
    unsigned failStatus = 502;
    ErrorReason failReason = ErrorReason::kUpstreamProtocolError;
    std::string failDetail;

    net::Tcp::socket socket(client_.get_executor());
    if (!freshRetry && ctx_.upstreams.takeIdle(*es, timeouts.idle, socket)) {
      reusedConn = true;
    }
    net::Tcp::socket& up = socket;
    live_.upstream = &up;
    struct UpstreamGuard {
      net::LiveConnection& live;
      ~UpstreamGuard() {
        live.upstream = nullptr;
        live.expireNever();
      }
    } upstreamGuard{live_};
    upBuffer_.consume(upBuffer_.size());
    freshRetry = false;
    boost::system::error_code ec;
    auto tryStart = SteadyClock::now();
    if (!reusedConn) {
      live_.expireUpstreamAt(tryStart +
                             (timeouts.connect.count() > 0 ? timeouts.connect : Ms(10000)));
      co_await up.async_connect(es->address, ecTok(ec));
      if (ec) {
        bool timedOut = live_.timedOut;
        failStatus = timedOut ? 504 : 502;
        failReason = timedOut ? ErrorReason::kConnectTimeout : ErrorReason::kConnectRefused;
        failDetail = "connect to " + net::toString(es->address) + ": " + ec.message();
        if (ctx_.upstreams.record(*es, policy.outlierDetection, false,
                                  SteadyClock::now() - tryStart)) {
          series_->ejections.inc();
        }
        outcome = retryOnHas(retries, api::RetryOn::Kind::kConnectFailure) ? Outcome::kRetry
                                                                           : Outcome::kFail;
      } else {
        up.set_option(net::Tcp::no_delay(true), ec);
        ec = {};
      }
    }
    if (!failDetail.empty()) {
      // connect failed; fall through to the retry decision
    } else {
      if (needContinue_ && !sentContinue_) {
        live_.expireClientAfter(ctx_.settings.clientIdle);
        co_await asio::async_write(client_, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n", 25),
                                   ecTok(ec));
        sentContinue_ = true;
        if (ec) {
          co_return false;
        }
      }
      bool sentAll = true;
      if (replay_ || !hasBody) {
        if (replay_) {
          req_.body().data = replay_->data();
          req_.body().size = replay_->size();
        } else {
          req_.body().data = nullptr;
          req_.body().size = 0;
        }
        req_.body().more = false;
        bhttp::serializer<true, bhttp::buffer_body> sr{req_};
        live_.expireUpstreamAt(SteadyClock::now() + ctx_.settings.clientIdle);
        co_await bhttp::async_write(up, sr, ecTok(ec));
      } else {
        sentAll = co_await streamRequestBody(up, ec);
        if (ec && sentAll) {
          // The client's body was bad (or it left) mid-stream.
          co_return co_await fail(400, ErrorReason::kBadRequest, "malformed request body");
        }
      }
      if (ec) {
        if (reusedConn && replayable) {
          freshRetry = true;  // the pooled connection had gone stale
          continue;
        }
        failDetail = "send to " + net::toString(es->address) + ": " + ec.message();
        ctx_.upstreams.record(*es, policy.outlierDetection, false, SteadyClock::now() - tryStart);
        // Reset before the request was sent: it never reached the app.
        outcome = replayable ? Outcome::kRetry : Outcome::kFail;
      }
    }

    if (failDetail.empty()) {
      beast::flat_buffer& upBuffer = upBuffer_;
      std::optional<ResponseParser> rp;
      auto tryDeadline = deadline;
      if (timeouts.perTry.count() > 0) {
        tryDeadline = std::min(tryDeadline, SteadyClock::now() + timeouts.perTry);
      }
      for (int i = 0; i < kMaxInformational; ++i) {
        rp.emplace();
        rp->body_limit(kUnlimited);
        rp->header_limit(static_cast<std::uint32_t>(ctx_.settings.maxHeaderBytes));
        if (req_.method() == bhttp::verb::head) {
          rp->skip(true);
        }
        live_.expireUpstreamAt(tryDeadline);
        co_await bhttp::async_read_header(up, upBuffer, *rp, ecTok(ec));
        if (ec) {
          break;
        }
        unsigned s = rp->get().result_int();
        if (s >= 100 && s < 200 && s != 101) {
          continue;  // 100 Continue was answered by us; other 1xx are dropped
        }
        break;
      }
      auto latency = SteadyClock::now() - tryStart;
      if (ec && live_.timedOut) {
        ctx_.upstreams.record(*es, policy.outlierDetection, false, latency);
        co_return co_await fail(504, ErrorReason::kRequestTimeout,
                                "no response from " + net::toString(es->address) + " in time");
      }
      if (ec) {
        bool nothing = ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                       ec == asio::error::eof;
        if (nothing && reusedConn && replayable && idempotent) {
          freshRetry = true;
          continue;
        }
        ctx_.upstreams.record(*es, policy.outlierDetection, false, latency);
        failDetail = nothing ? "upstream closed the connection without a response"
                             : "malformed response: " + ec.message();
        // Closed with no response byte: an idempotent request may go again.
        outcome =
            nothing && replayable && (idempotent || retryOnHas(retries, api::RetryOn::Kind::kReset))
                ? Outcome::kRetry
                : Outcome::kFail;
      } else {
        unsigned status = rp->get().result_int();
        bool failure = status >= 500;
        if (ctx_.upstreams.record(*es, policy.outlierDetection, !failure, latency)) {
          series_->ejections.inc();
        }
        if (status == 101 && upgrade) {
          co_return co_await tunnel(up, upBuffer, *rp);
        }
        bool retry = idempotent && replayable && attempt < retries.attempts &&
                     retryOnStatus(retries, status);
        if (retry && ctx_.upstreams.withdrawRetry(dest, retries.budget)) {
          series_->retries.inc();
          auto wait = ctx_.upstreams.backoff(retries.backoff, attempt);
          if (wait.count() > 0) {
            asio::steady_timer t(client_.get_executor(), wait);
            co_await t.async_wait(ecTok(ec));
          }
          continue;  // `up` closes: its response body is not worth draining
        }
        if (retry) {
          series_->budgetExhausted.inc();
        }
        bool keep = co_await relayResponse(up, upBuffer, *rp, *es);
        series_->latency.observe(
            std::chrono::duration<double>(SteadyClock::now() - start_).count());
        co_return keep;
      }
    }

    // A failed try: retry elsewhere when allowed and affordable.
    if (outcome == Outcome::kRetry && attempt < retries.attempts) {
      if (ctx_.upstreams.withdrawRetry(dest, retries.budget)) {
        series_->retries.inc();
        auto wait = ctx_.upstreams.backoff(retries.backoff, attempt);
        if (wait.count() > 0) {
          asio::steady_timer t(client_.get_executor(), wait);
          co_await t.async_wait(ecTok(ec));
        }
        continue;
      }
      series_->budgetExhausted.inc();
      co_return co_await fail(503, ErrorReason::kRetryBudgetExhausted,
                              "retry budget exhausted after: " + failDetail);
    }
    if (failReason == ErrorReason::kUpstreamProtocolError) {
      failStatus = 502;
    }
    co_return co_await fail(failStatus, failReason, failDetail);
  }
}

}  // namespace

asio::awaitable<void> serveHttp1(net::WorkerContext& ctx, net::LiveConnection& live,
                                 net::Tcp::socket& client, beast::flat_buffer& buffer,
                                 ConnInfo info) {
  std::array<char, kChunk> chunk;
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
    live.expireClientAfter(ctx.settings.headerTimeout);
    co_await bhttp::async_read_header(client, buffer, parser, ecTok(ec));
    if (ec && live.timedOut) {
      // The sweep has closed the socket already: count it and go.
      ctx.metrics.errorByReason[static_cast<std::size_t>(ErrorReason::kHeaderTimeout)]->inc();
      logger()->debug("closing {}: request headers not received in time", net::toString(info.peer));
      co_return;
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
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
