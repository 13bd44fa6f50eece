// One try: an endpoint from the balancer (waiting up to 3 s for one to become
// ready), a pooled or new connection within the destination's limits, the
// request sent, and the response head read within the per-try timeout.
#include <limits>

#include <boost/beast/http.hpp>

#include "proxy/src/http/exchange.h"
#include "proxy/src/net/address.h"
#include "proxy/src/tls/credentials.h"

namespace weft::proxy::http {
namespace {

namespace asio = boost::asio;
using Kind = resilience::AttemptOutcome::Kind;
using net::SteadyClock;
using Ms = std::chrono::milliseconds;

constexpr int kMaxInformational = 8;
// Beast 1.74 compares the length with an empty optional and always fails, so
// "no limit" has to be spelled as the largest value.
constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();
// How often a request waiting for a ready endpoint looks again; new endpoints
// arrive with a config swap on this same thread.
constexpr auto kEndpointPoll = std::chrono::milliseconds(20);
constexpr Ms kDefaultConnectTimeout{10000};

// A Weft proxy (authenticated by mTLS, so its weft-error can be trusted) that
// answers that it could not connect to its own app: the app crashed while
// the pod's proxy lives on.
bool peerCouldNotReachApp(const net::UpstreamConnection& up,
                          const ResponseParser::value_type& head) {
  if (up.peerIdentity.empty()) {
    return false;
  }
  auto reason = head["weft-error"];
  return reason == metrics::toString(ErrorReason::kConnectRefused) ||
         reason == metrics::toString(ErrorReason::kConnectTimeout);
}

}  // namespace

void Exchange::endTry() {
  live_.upstream = nullptr;
  live_.expireNever();
  rp_.reset();
  upstream_.reset();
  handle_.reset();
  if (entry_ != nullptr) {
    --entry_->inUse;
    entry_ = nullptr;
  }
}

asio::awaitable<bool> Exchange::pickEndpoint(TryFailure& failure) {
  if (out_ == nullptr) {
    entry_ = &ctx_.pool.find(direct_);
    ++entry_->inUse;
    co_return true;
  }
  std::optional<resilience::LimitGuard> pending;
  for (;;) {
    auto it = dest_->backends.find(*backendName_);
    if (it == dest_->backends.end()) {
      failure = {503, ErrorReason::kNoEndpoints, "no backend " + *backendName_};
      co_return false;
    }
    auto& backend = it->second;
    auto handle = backend.balancer->pick(tried_);
    if (handle) {
      entry_ = ctx_.pool.find(handle->address());
      if (entry_ == nullptr) {
        failure = {502, ErrorReason::kUpstreamProtocolError,
                   "endpoint address " + handle->address() + " is not ip:port"};
        co_return false;
      }
      ++entry_->inUse;
      handle_.emplace(std::move(handle).value());
      co_return true;
    }
    // No ready endpoint: a rollout or a first discovery answer may bring one
    // soon, so wait, but not once it has been missing for 3 s.
    auto budget = backend.readiness.waitBudget();
    if (budget <= Clock::Duration::zero() || SteadyClock::now() + kEndpointPoll >= deadline_) {
      failure = {503, ErrorReason::kNoEndpoints, "no ready endpoints for " + *backendName_};
      co_return false;
    }
    if (!pending) {
      pending = dest_->limits.tryAcquire(resilience::LimitKind::kPendingRequests);
      if (!pending) {
        series_->rejectedPending.inc();
        failure = {503, ErrorReason::kOverloaded,
                   "too many requests waiting for endpoints of " + dest_->name};
        co_return false;
      }
    }
    co_await sleep(std::min<Clock::Duration>(budget, kEndpointPoll));
  }
}

asio::awaitable<Exchange::TryEnd> Exchange::attempt(TryFailure& failure) {
  bool stale = staleConnection_;
  staleConnection_ = false;
  outcome_ = {};
  if (stale) {
    // Same endpoint, fresh connection.
    live_.upstream = nullptr;
    rp_.reset();
    upstream_.reset();
  } else {
    endTry();
    if (!co_await pickEndpoint(failure)) {
      co_return TryEnd::kFinal;
    }
  }
  const api::Timeouts* timeouts = out_ != nullptr ? &out_->policy.timeouts : nullptr;
  reused_ = false;
  if (!stale) {
    Ms maxIdle = timeouts != nullptr ? timeouts->idle : Ms(60000);
    if (auto c = ctx_.pool.take(*entry_, maxIdle, expectedIdentity())) {
      upstream_.emplace(std::move(*c));
      reused_ = true;
    }
  }
  upBuffer_.consume(upBuffer_.size());
  if (!reused_) {
    auto slot = dest_->limits.tryAcquire(resilience::LimitKind::kConnections);
    if (!slot) {
      series_->rejectedConnections.inc();
      failure = {503, ErrorReason::kOverloaded, "too many connections to " + dest_->name};
      co_return TryEnd::kFinal;
    }
    upstream_.emplace(net::UpstreamConnection{
        net::Stream(net::Tcp::socket(client_.get_executor())), std::move(slot), {}});
    live_.upstream = &upstream_->stream.socket();
    Ms connectTimeout = timeouts != nullptr && timeouts->connect.count() > 0
                            ? timeouts->connect
                            : kDefaultConnectTimeout;
    live_.expireUpstreamAt(std::min(deadline_, SteadyClock::now() + connectTimeout));
    boost::system::error_code ec;
    co_await upstream_->stream.socket().async_connect(entry_->address, ecTok(ec));
    if (ec) {
      bool timedOut = live_.timedOut;
      outcome_.kind = Kind::kConnectFailure;
      failure = {timedOut ? 504u : 502u,
                 timedOut ? ErrorReason::kConnectTimeout : ErrorReason::kConnectRefused,
                 "connect to " + net::toString(entry_->address) + ": " +
                     (timedOut ? std::string("timed out") : ec.message())};
      co_return TryEnd::kTried;
    }
    upstream_->stream.socket().set_option(net::Tcp::no_delay(true), ec);
    if (!expectedIdentity().empty()) {
      bool secured = co_await handshake(failure);
      if (!secured) {
        outcome_.kind = Kind::kConnectFailure;
        co_return TryEnd::kTried;
      }
    }
  }
  live_.upstream = &upstream_->stream.socket();
  auto sent = co_await sendRequest(failure);
  if (sent != TryEnd::kTried || staleConnection_ || !failure.detail.empty()) {
    co_return sent;
  }
  co_await readResponseHead(failure);
  co_return TryEnd::kTried;
}

std::string Exchange::expectedIdentity() const {
  if (!handle_ || !ctx_.settings.mtls) {
    return {};
  }
  auto it = dest_->backends.find(*backendName_);
  return it == dest_->backends.end() ? std::string() : it->second.identityOf(handle_->address());
}

// mTLS to a meshed endpoint, under the connect deadline already armed: the
// peer must show a certificate from our bundle naming the identity discovery
// expects. A failure counts as a connect failure (retried elsewhere).
asio::awaitable<bool> Exchange::handshake(TryFailure& failure) {
  const std::string expected = expectedIdentity();
  std::string where = net::toString(entry_->address);
  auto& results = ctx_.metrics.tlsHandshakes;
  auto creds = ctx_.credentials;
  if (!creds) {
    results.with({"outbound", "no_certificate"}).inc();
    failure = {502, ErrorReason::kUpstreamTlsError,
               "mTLS to " + where + ": no workload certificate yet"};
    co_return false;
  }
  net::Stream tls(std::move(upstream_->stream.socket()), creds->client());
  upstream_->stream = std::move(tls);
  auto& stream = upstream_->stream;
  live_.upstream = &stream.socket();
  tls::setAlpn(stream.tls().native_handle(), tls::kAlpnHttp1);
  boost::system::error_code ec;
  co_await stream.tls().async_handshake(asio::ssl::stream_base::client, ecTok(ec));
  if (ec) {
    results.with({"outbound", "failed"}).inc();
    bool timedOut = live_.timedOut;
    failure = {timedOut ? 504u : 502u,
               timedOut ? ErrorReason::kConnectTimeout : ErrorReason::kUpstreamTlsError,
               "mTLS to " + where + ": " + (timedOut ? std::string("timed out") : ec.message())};
    co_return false;
  }
  auto peer = tls::peerIdentity(stream.tls().native_handle());
  if (!peer || *peer != expected) {
    results.with({"outbound", "identity_mismatch"}).inc();
    failure = {502, ErrorReason::kTlsIdentityMismatch,
               "mTLS to " + where + ": peer is " + peer.value_or("(no SPIFFE ID)") + ", expected " +
                   expected};
    co_return false;
  }
  results.with({"outbound", "ok"}).inc();
  upstream_->peerIdentity = *peer;
  co_return true;
}

asio::awaitable<Exchange::TryEnd> Exchange::sendRequest(TryFailure& failure) {
  if (needContinue_ && !sentContinue_ && !co_await writeContinue()) {
    co_return TryEnd::kClientGone;
  }
  boost::system::error_code ec;
  bool clientFailed = false;
  if (replay_ || !hasBody_) {
    req_.body().data = replay_ ? replay_->data() : nullptr;
    req_.body().size = replay_ ? replay_->size() : 0;
    req_.body().more = false;
    bhttp::serializer<true, bhttp::buffer_body> sr{req_};
    live_.expireUpstreamAt(SteadyClock::now() + ctx_.settings.clientIdle);
    co_await bhttp::async_write(upstream_->stream, sr, ecTok(ec));
  } else {
    co_await streamRequestBody(ec, clientFailed);
  }
  if (clientFailed) {
    failure = {400, ErrorReason::kBadRequest, "malformed request body"};
    keepClient_ = false;
    co_return TryEnd::kFinal;
  }
  if (ec) {
    if (reused_ && !bodyConsumed_) {
      staleConnection_ = true;  // the pooled connection had closed meanwhile
      co_return TryEnd::kTried;
    }
    // Without its whole body no app can have acted on the request.
    outcome_.kind = bodyConsumed_ ? Kind::kResetAfterSent : Kind::kResetBeforeSent;
    failure = {502, ErrorReason::kUpstreamProtocolError,
               "send to " + net::toString(entry_->address) + ": " + ec.message()};
  }
  co_return TryEnd::kTried;
}

asio::awaitable<void> Exchange::readResponseHead(TryFailure& failure) {
  auto tryDeadline = deadline_;
  if (out_ != nullptr && out_->policy.timeouts.perTry.count() > 0) {
    tryDeadline = std::min(tryDeadline, SteadyClock::now() + out_->policy.timeouts.perTry);
  }
  auto& up = upstream_->stream;
  boost::system::error_code ec;
  for (int i = 0; i < kMaxInformational; ++i) {
    rp_.emplace();
    rp_->body_limit(kUnlimited);
    rp_->header_limit(static_cast<std::uint32_t>(ctx_.settings.maxHeaderBytes));
    if (req_.method() == bhttp::verb::head) {
      rp_->skip(true);
    }
    live_.expireUpstreamAt(tryDeadline);
    co_await bhttp::async_read_header(up, upBuffer_, *rp_, ecTok(ec));
    if (ec) {
      break;
    }
    unsigned s = rp_->get().result_int();
    if (s < 100 || s >= 200 || s == 101) {
      break;
    }
    // 100 Continue was answered by us; other 1xx are dropped.
  }
  if (!ec) {
    outcome_.kind = Kind::kResponse;
    outcome_.status = static_cast<std::uint16_t>(rp_->get().result_int());
    if (peerCouldNotReachApp(*upstream_, rp_->get())) {
      // The request never reached the app, as if we had dialled it ourselves:
      // retried elsewhere for any method. The answer's body is not read, so
      // the connection is not reused.
      outcome_.kind = Kind::kConnectFailure;
      bool timedOut = rp_->get()["weft-error"] == metrics::toString(ErrorReason::kConnectTimeout);
      failure = {timedOut ? 504u : 502u,
                 timedOut ? ErrorReason::kConnectTimeout : ErrorReason::kConnectRefused,
                 "the proxy of " + net::toString(entry_->address) + " could not reach its app"};
      rp_.reset();
      upstream_->stream.socket().close(ec);
    }
    co_return;
  }
  rp_.reset();
  std::string where = net::toString(entry_->address);
  if (live_.timedOut) {
    outcome_.kind = Kind::kTimeout;
    failure = {504, ErrorReason::kRequestTimeout, "no response from " + where + " in time"};
    co_return;
  }
  bool nothing = ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                 ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
  if (nothing && reused_ && !bodyConsumed_ && resilience::isIdempotent(req_.method_string())) {
    // The server closed the pooled connection as the request went out (its
    // idle timeout): the keep-alive race, not a failure of the endpoint.
    staleConnection_ = true;
    co_return;
  }
  outcome_.kind = Kind::kResetAfterSent;
  outcome_.noResponseBytes = nothing;
  failure = {502, ErrorReason::kUpstreamProtocolError,
             nothing ? where + " closed the connection without a response"
                     : "malformed response from " + where + ": " + ec.message()};
}

}  // namespace weft::proxy::http
