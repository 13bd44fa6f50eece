// One request: destination and route, faults and header changes, the request
// limit, the total timeout and the retry loop around attempts.
#include "proxy/src/http/exchange.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include "proxy/src/http/framing.h"
#include "proxy/src/net/address.h"
#include "proxy/src/route/fault.h"

namespace weft::proxy::http {
namespace {

namespace asio = boost::asio;
using net::SteadyClock;

constexpr auto kFirstDocumentWaitStep = std::chrono::milliseconds(10);

// Retries of requests without a document (passthrough, inbound): only what
// never reached the app, which retry.cc allows whatever `on` says.
const resilience::RetrySettings& directRetries() {
  static const resilience::RetrySettings s = [] {
    resilience::RetrySettings r;
    r.on.statuses.clear();
    return r;
  }();
  return s;
}

}  // namespace

// FieldsView

std::optional<std::string_view> FieldsView::get(std::string_view name) const {
  auto it = f_.find(name);
  if (it == f_.end()) {
    return std::nullopt;
  }
  return std::string_view(it->value());
}
void FieldsView::set(std::string_view name, std::string_view value) { f_.set(name, value); }
void FieldsView::add(std::string_view name, std::string_view value) { f_.insert(name, value); }
void FieldsView::remove(std::string_view name) { f_.erase(name); }

// Exchange

Exchange::Exchange(net::WorkerContext& ctx, net::LiveConnection& live, net::Stream& client,
                   boost::beast::flat_buffer& buffer, boost::beast::flat_buffer& upBuffer,
                   const ConnInfo& info, const config::Snapshot& table, RequestParser& parser,
                   Chunk& chunk)
    : ctx_(ctx),
      live_(live),
      client_(client),
      buffer_(buffer),
      info_(info),
      table_(table),
      parser_(parser),
      req_(parser.get()),
      chunk_(chunk),
      start_(SteadyClock::now()),
      upBuffer_(upBuffer) {}

asio::awaitable<bool> Exchange::fail(unsigned status, ErrorReason reason, std::string_view detail) {
  if (series_ != nullptr) {
    series_->byStatus(status).inc();
  }
  bool keep = clientMayContinue();
  co_await sendError(ctx_, live_, client_, status, reason, detail, keep, req_.version());
  co_return keep;
}

// Tells the balancer how the try went (latency, outlier detection) and counts
// an ejection it caused.
void Exchange::completeTry() {
  if (!handle_) {
    return;
  }
  auto it = dest_->backends.find(*backendName_);
  const auto* outliers = it != dest_->backends.end() ? &it->second.balancer->outliers() : nullptr;
  auto before = outliers != nullptr ? outliers->ejectionsTotal() : 0;
  handle_->complete(lb::endpointOutcome(outcome_));
  if (outliers != nullptr && outliers->ejectionsTotal() > before) {
    series_->ejections.inc();
  }
}

asio::awaitable<void> Exchange::sleep(Clock::Duration d) {
  if (d <= Clock::Duration::zero()) {
    co_return;
  }
  asio::steady_timer t(client_.get_executor(), d);
  boost::system::error_code ec;
  co_await t.async_wait(ecTok(ec));
}

// A kubelet probe: GET (or HEAD) of a path the injector recorded for this port.
bool Exchange::isProbe() const {
  if (req_.method() != bhttp::verb::get && req_.method() != bhttp::verb::head) {
    return false;
  }
  const auto* in = table_.inbound();
  if (in == nullptr) {
    return false;
  }
  std::string_view target = req_.target();
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& p : in->probes) {
    if (p.port == info_.originalDst.port() && p.path == path) {
      return true;
    }
  }
  return false;
}

// Inbound authorization; the reason when denied. The kubelet's probes have
// no identity and pass, as they pass STRICT.
std::optional<std::string> Exchange::authorize() {
  if (info_.peerRequests != nullptr) {
    info_.peerRequests->inc();
  }
  const auto& authorizer = table_.authorizer();
  if (authorizer.empty() || (!info_.peerIdentity && isProbe())) {
    return std::nullopt;
  }
  std::string_view target = req_.target();
  authz::Request r;
  if (info_.peerIdentity) {
    r.peer = *info_.peerIdentity;
  }
  r.port = info_.originalDst.port();
  r.method = req_.method_string();
  r.path = target.substr(0, target.find('?'));
  auto d = authorizer.check(r);
  if (d.allowed) {
    return std::nullopt;
  }
  ctx_.metrics.authzDenied.with({"http"}).inc();
  series_ = &ctx_.series.get(true, std::to_string(info_.originalDst.port()));
  return d.reason;
}

// Destination: a known service named by Host, else by the original
// destination address, else the original destination itself. False when
// there is nowhere to send the request.
asio::awaitable<bool> Exchange::resolve() {
  std::string destName;
  if (info_.inbound) {
    if (info_.plaintextProbesOnly && !isProbe()) {
      co_return false;
    }
    direct_ = net::Tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), info_.originalDst.port());
    destName = std::to_string(info_.originalDst.port());
    series_ = &ctx_.series.get(true, destName);
    dest_ = ctx_.destinations.direct("inbound:" + destName);
    co_return info_.redirected;
  }
  const config::Snapshot* table = &table_;
  out_ = table->findOutbound(req_[bhttp::field::host], info_.originalDst.port());
  if (out_ == nullptr) {
    out_ = table->findOutbound(net::toString(info_.originalDst));
  }
  auto host = req_[bhttp::field::host];
  if (out_ == nullptr && !host.empty()) {
    bool hasPort = host.find(':') != std::string_view::npos && host.back() != ']';
    // The first requests to a new destination wait briefly for its document
    // instead of failing while the subscription is in flight.
    auto until = ctx_.subscribeOnce(hasPort ? std::string(host)
                                            : std::string(host) + ":" +
                                                  std::to_string(info_.originalDst.port()));
    while (out_ == nullptr && SteadyClock::now() < until) {
      co_await sleep(kFirstDocumentWaitStep);
      pinned_ = ctx_.table;
      table = pinned_.get();
      out_ = table->findOutbound(host, info_.originalDst.port());
    }
  }
  if (out_ != nullptr && out_->backends.empty()) {
    out_ = nullptr;  // the control plane knows no such service: not ours to route
  }
  if (out_ == nullptr) {
    direct_ = info_.originalDst;
    series_ = &ctx_.series.get(false, "passthrough");
    dest_ = ctx_.destinations.direct("passthrough");
    co_return info_.redirected;
  }
  compiled_ = &table->compiled(*out_);
  dest_ = ctx_.destinations.get(*table, *out_);
  series_ = &ctx_.series.get(false, out_->authority);
  co_return true;
}

asio::awaitable<bool> Exchange::run() {
  upgrade_ = isUpgrade(req_);
  keepClient_ = req_.keep_alive() && !ctx_.draining && !upgrade_;
  ctx_.pool.evict();
  if (info_.inbound) {
    if (auto denied = authorize()) {
      co_return co_await fail(403, ErrorReason::kForbidden, *denied);
    }
  }
  if (!co_await resolve()) {
    if (info_.plaintextProbesOnly) {
      series_ = &ctx_.series.get(true, std::to_string(info_.originalDst.port()));
      co_return co_await fail(403, ErrorReason::kPlaintextRefused,
                              "STRICT mTLS: plaintext is allowed only for the kubelet's probes");
    }
    series_ = &ctx_.series.get(false, "passthrough");
    co_return co_await fail(502, ErrorReason::kNoRoute,
                            "no known service for this Host and no original destination");
  }
  requestSlot_ = dest_->limits.tryAcquire(resilience::LimitKind::kRequests);
  if (!requestSlot_) {
    series_->rejectedRequests.inc();
    co_return co_await fail(503, ErrorReason::kOverloaded,
                            "too many concurrent requests to " + dest_->name);
  }
  ctx_.metrics.httpActive.add(1);
  struct GaugeGuard {
    metrics::Gauge& g;
    ~GaugeGuard() { g.add(-1); }
  } gaugeGuard{ctx_.metrics.httpActive};

  retrySettings_ = &directRetries();
  std::chrono::milliseconds requestTimeout{};
  if (out_ != nullptr) {
    retrySettings_ = &compiled_->retries;
    requestTimeout = out_->policy.timeouts.request;
    FieldsView fields(req_);
    route_ =
        compiled_->routes.match(route::RequestView{req_.method_string(), req_.target(), fields});
    if (route_ == nullptr) {
      co_return co_await fail(404, ErrorReason::kNoRoute,
                              "no route of " + out_->authority + " matches this request");
    }
    const route::BackendRef* backend = route_->chooseBackend(ctx_.random);
    if (backend == nullptr) {
      co_return co_await fail(503, ErrorReason::kNoEndpoints,
                              "every backend of route " + route_->name() + " has weight 0");
    }
    backendName_ = &backend->name;
    if (route_->retries()) {
      retrySettings_ = &*route_->retries();
    }
    if (route_->timeout()) {
      requestTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(*route_->timeout());
    }
    route_->requestHeaders().apply(fields);
    auto fault = route::decideFault(route_->fault(), ctx_.random);
    co_await sleep(fault.delay);
    if (fault.abortStatus) {
      co_return co_await fail(*fault.abortStatus, ErrorReason::kFaultInjected,
                              "fault injected by route " + route_->name());
    }
  }
  if (requestTimeout.count() > 0) {
    deadline_ = start_ + requestTimeout;
  }

  removeHopByHop(req_, upgrade_);
  if (boost::beast::iequals(req_[bhttp::field::expect], "100-continue")) {
    req_.erase(bhttp::field::expect);
    needContinue_ = !parser_.is_done() && req_.version() >= 11;
  }
  hasBody_ = !parser_.is_done();
  auto length = parser_.content_length();
  // A body that fits the replay buffer is read first, so a retry can send it
  // again; a bigger or chunked one streams and is sent once.
  if (hasBody_ && !parser_.chunked() && length && *length <= retrySettings_->replayBufferBytes) {
    if (!co_await writeContinue()) {
      co_return false;
    }
    if (!co_await readReplayBody()) {
      co_return co_await fail(400, ErrorReason::kBadRequest, "malformed request body");
    }
  }

  // The first attempt deposits into the budget; retries withdraw.
  resilience::RetryState retry(*retrySettings_, *dest_->budget, ctx_.random);
  for (;;) {
    TryFailure failure;
    auto end = co_await attempt(failure);
    if (end == TryEnd::kClientGone) {
      co_return false;
    }
    if (end == TryEnd::kFinal) {
      endTry();
      co_return co_await finish(failure);
    }
    if (staleConnection_) {
      continue;  // the pooled connection had closed: not an attempt
    }
    outcome_.bodyExceededReplayBuffer = bodyConsumed_;
    auto verdict = resilience::classify(req_.method_string(), outcome_, *retrySettings_);
    if (verdict == resilience::Classification::kRetryable && handle_) {
      tried_.push_back(handle_->address());  // a retry goes elsewhere
    }
    completeTry();
    bool totalTimeout = outcome_.kind == resilience::AttemptOutcome::Kind::kTimeout &&
                        SteadyClock::now() >= deadline_;
    if (verdict == resilience::Classification::kRetryable && !totalTimeout) {
      auto decision = retry.onAttempt(verdict);
      if (decision.retry && SteadyClock::now() + decision.delay < deadline_) {
        series_->retries.inc();
        endTry();
        co_await sleep(decision.delay);
        continue;
      }
      if (decision.stop == resilience::RetryStop::kBudgetExhausted) {
        series_->budgetExhausted.inc();
        if (!rp_) {
          failure.status = 503;
          failure.reason = ErrorReason::kRetryBudgetExhausted;
          failure.detail = "retry budget exhausted after: " + failure.detail;
        }
      }
    }
    if (!rp_) {
      endTry();
      co_return co_await finish(failure);
    }
    if (rp_->get().result_int() == 101 && upgrade_) {
      co_return co_await tunnel();
    }
    bool keep = co_await relayResponse();
    series_->latency.observe(std::chrono::duration<double>(SteadyClock::now() - start_).count());
    endTry();
    co_return keep;
  }
}

}  // namespace weft::proxy::http
