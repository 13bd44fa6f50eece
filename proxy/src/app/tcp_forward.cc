// Opaque TCP forwarding, with mTLS to meshed endpoints.
#include "proxy/src/app/tcp_forward.h"

#include "common/log/log.h"
#include "proxy/src/net/address.h"
#include "proxy/src/tcp/relay.h"
#include "proxy/src/tls/credentials.h"

namespace weft::proxy::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using Ms = std::chrono::milliseconds;

const std::shared_ptr<spdlog::logger>& logger() {
  static auto l = log::get("proxy.tcp");
  return l;
}

struct ByteCounters {
  metrics::Counter* toUpstream;
  metrics::Counter* toClient;
};

void countBytes(void* p, bool toUpstream, std::uint64_t n) {
  auto* c = static_cast<ByteCounters*>(p);
  (toUpstream ? c->toUpstream : c->toClient)->inc(n);
}

// mTLS client handshake on `up` (ALPN weft/tcp) checking the peer's identity.
asio::awaitable<bool> upgradeUpstream(net::WorkerContext& ctx, net::Stream& up,
                                      const std::string& expected) {
  auto& results = ctx.metrics.tlsHandshakes;
  auto creds = ctx.credentials;
  if (!creds) {
    results.with({"outbound", "no_certificate"}).inc();
    logger()->debug("tcp mTLS: no workload certificate yet");
    co_return false;
  }
  net::Stream tls(std::move(up.socket()), creds->client());
  up = std::move(tls);
  tls::setAlpn(up.tls().native_handle(), tls::kAlpnTcp);
  boost::system::error_code ec;
  co_await up.tls().async_handshake(asio::ssl::stream_base::client, ecTok(ec));
  if (ec) {
    results.with({"outbound", "failed"}).inc();
    logger()->debug("tcp mTLS handshake: {}", ec.message());
    co_return false;
  }
  auto peer = tls::peerIdentity(up.tls().native_handle());
  if (!peer || *peer != expected) {
    results.with({"outbound", "identity_mismatch"}).inc();
    ctx.metrics.errorByReason[static_cast<std::size_t>(metrics::ErrorReason::kTlsIdentityMismatch)]
        ->inc();
    logger()->debug("tcp mTLS: peer is {}, expected {}", peer.value_or("(none)"), expected);
    co_return false;
  }
  results.with({"outbound", "ok"}).inc();
  co_return true;
}

}  // namespace

asio::awaitable<void> forwardTcp(net::WorkerContext& ctx, net::Stream& client,
                                 beast::flat_buffer& initial, const net::Tcp::endpoint& dst,
                                 bool redirected, bool inbound) {
  config::SnapshotPtr table = ctx.table;
  net::Tcp::endpoint target;
  const api::Outbound* out = nullptr;
  std::shared_ptr<net::Destination> dest;  // keeps the balancer alive for `handle`
  std::optional<lb::EndpointHandle> handle;
  if (!inbound && table != nullptr) {
    out = table->findOutbound(net::toString(dst));
    if (out != nullptr && out->backends.empty()) {
      out = nullptr;  // unknown to the control plane: the original destination
    }
  }
  if (out != nullptr) {
    dest = ctx.destinations.get(*table, *out);
    auto it = dest->backends.find(out->authority);
    auto picked =
        it != dest->backends.end()
            ? it->second.balancer->pick()
            : Result<lb::EndpointHandle>(makeError(ErrorCode::kUnavailable, "no backend"));
    auto ep =
        picked ? net::parseEndpoint(picked->address()) : Result<net::Tcp::endpoint>(picked.error());
    if (!ep) {
      logger()->debug("tcp {}: {}", out->authority, ep.error().message);
      co_return;
    }
    target = *ep;
    handle.emplace(std::move(picked).value());
  } else if (redirected) {
    if (!inbound) {
      ctx.subscribeOnce(net::toString(dst));
    }
    target = inbound ? net::Tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), dst.port()) : dst;
  } else {
    logger()->debug("tcp: no route for {} (not redirected, not a known service)",
                    net::toString(dst));
    co_return;
  }
  net::Stream up(net::Tcp::socket(client.get_executor()));
  boost::system::error_code ec;
  auto connectTimeout = out != nullptr ? out->policy.timeouts.connect : Ms(1000);
  if (connectTimeout.count() <= 0) {
    connectTimeout = Ms(10000);
  }
  // Connect and handshake share one deadline. The handler may already be
  // queued when cancelled, so it reaches the stream only through `guard`,
  // cleared once the deadline no longer applies.
  auto guard = std::make_shared<net::Stream*>(&up);
  asio::steady_timer deadline(client.get_executor(), connectTimeout);
  deadline.async_wait([guard](boost::system::error_code tec) {
    if (!tec && *guard != nullptr) {
      (*guard)->close();
    }
  });
  co_await up.socket().async_connect(target, ecTok(ec));
  std::string identity;
  if (handle && ctx.settings.mtls) {
    auto it = dest->backends.find(out->authority);
    identity = it != dest->backends.end() ? it->second.identityOf(handle->address()) : "";
  }
  bool ok = !ec;
  if (ok && !identity.empty()) {
    ok = co_await upgradeUpstream(ctx, up, identity);
  }
  *guard = nullptr;
  deadline.cancel();
  if (handle) {
    handle->complete(ok ? lb::Outcome::kSuccess : lb::Outcome::kConnectFailure);
  }
  if (!ok) {
    logger()->debug("tcp connect {}: {}", net::toString(target),
                    ec ? ec.message() : std::string("mTLS failed"));
    co_return;
  }
  up.socket().set_option(net::Tcp::no_delay(true), ec);
  const char* dir = inbound ? "inbound" : "outbound";
  ByteCounters counters{&ctx.metrics.tcpBytes.with({dir, "to_upstream"}),
                        &ctx.metrics.tcpBytes.with({dir, "to_client"})};
  if (initial.size() > 0) {
    co_await asio::async_write(up, initial.data(), ecTok(ec));
    if (ec) {
      co_return;
    }
    counters.toUpstream->inc(initial.size());
    initial.consume(initial.size());
  }
  auto idle = out != nullptr ? out->policy.timeouts.idle : Ms(3600 * 1000);
  co_await tcp::relay(client, up, idle, tcp::RelayCounters{&countBytes, &counters});
}

}  // namespace weft::proxy::app
