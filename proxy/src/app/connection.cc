// Protocol detection and dispatch of a client connection.
#include "proxy/src/app/connection.h"

#include <algorithm>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "common/log/log.h"
#include "proxy/src/http/http1_proxy.h"
#include "proxy/src/net/address.h"
#include "proxy/src/tcp/detect.h"
#include "proxy/src/tcp/relay.h"

namespace weft::proxy::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

const std::shared_ptr<spdlog::logger>& logger() {
  static auto l = log::get("proxy.tcp");
  return l;
}

auto ecTok(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// Cancels a pending read when the timer fires; `socket` is cleared by the
// coroutine before its frame goes, so a late handler touches nothing.
struct DetectTimer {
  net::Tcp::socket* socket = nullptr;
  bool fired = false;
};

struct ByteCounters {
  metrics::Counter* toUpstream;
  metrics::Counter* toClient;
};

void countBytes(void* p, bool toUpstream, std::uint64_t n) {
  auto* c = static_cast<ByteCounters*>(p);
  (toUpstream ? c->toUpstream : c->toClient)->inc(n);
}

asio::awaitable<void> forwardTcp(net::WorkerContext& ctx, net::Tcp::socket& client,
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
  beast::tcp_stream up(client.get_executor());
  boost::system::error_code ec;
  auto connectTimeout =
      out != nullptr ? out->policy.timeouts.connect : std::chrono::milliseconds(1000);
  up.expires_after(connectTimeout.count() > 0 ? connectTimeout : std::chrono::milliseconds(10000));
  co_await up.async_connect(target, ecTok(ec));
  if (handle) {
    handle->complete(ec ? lb::Outcome::kConnectFailure : lb::Outcome::kSuccess);
  }
  if (ec) {
    logger()->debug("tcp connect {}: {}", net::toString(target), ec.message());
    co_return;
  }
  up.expires_never();
  auto upSocket = up.release_socket();
  upSocket.set_option(net::Tcp::no_delay(true), ec);
  const char* dir = inbound ? "inbound" : "outbound";
  ByteCounters counters{&ctx.metrics.tcpBytes.with({dir, "to_upstream"}),
                        &ctx.metrics.tcpBytes.with({dir, "to_client"})};
  if (initial.size() > 0) {
    co_await asio::async_write(upSocket, initial.data(), ecTok(ec));
    if (ec) {
      co_return;
    }
    counters.toUpstream->inc(initial.size());
    initial.consume(initial.size());
  }
  auto idle = out != nullptr ? out->policy.timeouts.idle : std::chrono::milliseconds(3600 * 1000);
  co_await tcp::relay(client, upSocket, idle, tcp::RelayCounters{&countBytes, &counters});
}

void refusePlaintext(net::WorkerContext& ctx, const net::Tcp::endpoint& dst) {
  ctx.metrics.errorByReason[static_cast<std::size_t>(metrics::ErrorReason::kPlaintextRefused)]
      ->inc();
  logger()->debug("inbound {}: plaintext refused (STRICT mTLS)", net::toString(dst));
}

}  // namespace

asio::awaitable<void> handleConnection(net::WorkerContext& ctx, net::Tcp::socket socket,
                                       bool inbound) {
  const char* dir = inbound ? "inbound" : "outbound";
  auto& open = ctx.metrics.tcpOpen.with({dir});
  ctx.metrics.tcpTotal.with({dir}).inc();
  open.add(1);
  struct OpenGuard {
    metrics::Gauge& g;
    ~OpenGuard() { g.add(-1); }
  } openGuard{open};
  net::LiveGuard live(ctx, socket);

  bool redirected = false;
  auto dst = net::originalDestination(socket, redirected);
  boost::system::error_code ec;
  socket.set_option(net::Tcp::no_delay(true), ec);

  bool opaque = false;
  if (redirected) {
    const auto& ports = ctx.settings.opaquePorts;
    opaque = std::find(ports.begin(), ports.end(), dst.port()) != ports.end() ||
             ctx.opaqueDestinations.count(dst) > 0;
  }
  // STRICT mTLS: plaintext inbound (every connection until the identity
  // work brings TLS) is refused, except kubelet probes on their ports.
  bool probesOnly = false;
  if (const config::Snapshot* t = ctx.table.get()) {
    if (inbound && t->inbound() != nullptr && t->inbound()->mtls == api::MtlsMode::kStrict) {
      const auto& probes = t->inbound()->probes;
      if (std::none_of(probes.begin(), probes.end(),
                       [&](const api::Probe& p) { return p.port == dst.port(); })) {
        refusePlaintext(ctx, dst);
        co_return;
      }
      probesOnly = true;
    }
    if (inbound && t->inbound() != nullptr) {
      // Ports the Inbound document does not declare are opaque.
      const auto* p = t->findInboundPort(dst.port());
      opaque = opaque || p == nullptr || p->protocol == api::Protocol::kTcp;
    } else if (const auto* out = t->findOutbound(net::toString(dst))) {
      opaque = opaque || out->protocol == api::Protocol::kTcp;
    }
  }

  beast::flat_buffer buffer;
  if (!opaque) {
    auto timer = std::make_shared<DetectTimer>();
    timer->socket = &socket;
    asio::steady_timer t(socket.get_executor(), ctx.settings.detectTimeout);
    t.async_wait([timer](boost::system::error_code tec) {
      if (!tec && timer->socket != nullptr) {
        timer->fired = true;
        boost::system::error_code ignored;
        timer->socket->cancel(ignored);
      }
    });
    tcp::Detected d = tcp::Detected::kNeedMore;
    while (d == tcp::Detected::kNeedMore) {
      std::size_t n = co_await socket.async_read_some(buffer.prepare(512), ecTok(ec));
      buffer.commit(n);
      if (ec) {
        break;
      }
      auto data = buffer.data();
      d = tcp::detect(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    timer->socket = nullptr;
    t.cancel();
    if (timer->fired) {
      ctx.metrics.detectTimeouts.inc();
      if (redirected &&
          ctx.opaqueDestinations.size() < net::WorkerContext::kMaxOpaqueDestinations) {
        ctx.opaqueDestinations.insert(dst);
      }
      opaque = true;
    } else if (ec) {
      co_return;
    } else {
      opaque = d == tcp::Detected::kOpaque;
    }
  }

  if (opaque && probesOnly) {
    refusePlaintext(ctx, dst);
    co_return;
  }
  if (opaque) {
    co_await forwardTcp(ctx, socket, buffer, dst, redirected, inbound);
    co_return;
  }
  http::ConnInfo info;
  info.originalDst = dst;
  info.redirected = redirected;
  info.inbound = inbound;
  info.plaintextProbesOnly = probesOnly;
  info.peer = socket.remote_endpoint(ec);
  co_await http::serveHttp1(ctx, live.get(), socket, buffer, info);
}

}  // namespace weft::proxy::app
