// Protocol detection and dispatch of a client connection.
#include "proxy/src/app/connection.h"

#include <algorithm>

#include <boost/beast/core/flat_buffer.hpp>
#include <sys/socket.h>

#include "common/log/log.h"
#include "proxy/src/app/tcp_forward.h"
#include "proxy/src/http/http1_proxy.h"
#include "proxy/src/net/address.h"
#include "proxy/src/net/stream.h"
#include "proxy/src/tcp/detect.h"
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

// A TLS record is at most 16 KiB plus its header: a ClientHello we terminate
// fits one.
constexpr std::size_t kMaxHelloBytes = 5 + 16 * 1024;
// Waiting for the rest of a split ClientHello without spinning.
constexpr Ms kPeekRetry{2};

// Cancels a pending read when the timer fires; `socket` is cleared by the
// coroutine before its frame goes, so a late handler touches nothing.
struct DetectTimer {
  net::Tcp::socket* socket = nullptr;
  bool fired = false;
};

// Arms a DetectTimer for the duration of one detection.
class DetectScope {
 public:
  DetectScope(net::Tcp::socket& socket, Ms timeout)
      : state_(std::make_shared<DetectTimer>()), timer_(socket.get_executor(), timeout) {
    state_->socket = &socket;
    timer_.async_wait([s = state_](boost::system::error_code ec) {
      if (!ec && s->socket != nullptr) {
        s->fired = true;
        boost::system::error_code ignored;
        s->socket->cancel(ignored);
      }
    });
  }
  ~DetectScope() {
    state_->socket = nullptr;
    timer_.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  std::shared_ptr<DetectTimer> state_;
  asio::steady_timer timer_;
};

void refusePlaintext(net::WorkerContext& ctx, const net::Tcp::endpoint& dst) {
  ctx.metrics.errorByReason[static_cast<std::size_t>(metrics::ErrorReason::kPlaintextRefused)]
      ->inc();
  logger()->debug("inbound {}: plaintext refused (STRICT mTLS)", net::toString(dst));
}

// What the first bytes of an inbound connection are, seen without consuming
// them (MSG_PEEK), so a ClientHello is still there for the TLS handshake and
// plaintext reaches the app untouched.
struct InboundPeek {
  tls::HelloScan hello = tls::HelloScan::kNotTls;
  tcp::Detected detected = tcp::Detected::kOpaque;
  bool timedOut = false;
  bool closed = false;
};

asio::awaitable<InboundPeek> peekInbound(net::WorkerContext& ctx, net::Tcp::socket& socket) {
  InboundPeek r;
  std::vector<char> buf(kMaxHelloBytes);
  DetectScope timer(socket, ctx.settings.detectTimeout);
  ssize_t last = -1;
  for (;;) {
    boost::system::error_code ec;
    co_await socket.async_wait(net::Tcp::socket::wait_read, ecTok(ec));
    if (timer.fired()) {
      r.timedOut = true;
      co_return r;
    }
    if (ec) {
      r.closed = true;
      co_return r;
    }
    ssize_t n = ::recv(socket.native_handle(), buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        continue;
      }
      r.closed = true;
      co_return r;
    }
    std::string_view data(buf.data(), static_cast<std::size_t>(n));
    r.hello = tls::scanClientHello(data);
    r.detected = tcp::detect(data);
    bool decided = r.hello == tls::HelloScan::kWeft || r.hello == tls::HelloScan::kForeignTls ||
                   (r.hello == tls::HelloScan::kNotTls && r.detected != tcp::Detected::kNeedMore);
    if (decided || static_cast<std::size_t>(n) == buf.size()) {
      co_return r;
    }
    if (n == last) {
      // Readable but nothing new: the rest of the hello is still on its way.
      asio::steady_timer t(socket.get_executor(), kPeekRetry);
      co_await t.async_wait(ecTok(ec));
    }
    last = n;
  }
}

// Terminates mTLS from another proxy and serves what its ALPN names.
asio::awaitable<void> serveMtls(net::WorkerContext& ctx, net::LiveConnection& live,
                                net::Stream& client, const net::Tcp::endpoint& dst,
                                bool redirected) {
  auto& results = ctx.metrics.tlsHandshakes;
  auto creds = ctx.credentials;
  if (!creds) {
    results.with({"inbound", "no_certificate"}).inc();
    logger()->debug("inbound mTLS refused: no workload certificate yet");
    co_return;
  }
  net::Stream tls(std::move(client.socket()), creds->server());
  client = std::move(tls);
  live.socket = &client.socket();
  live.expireClientAfter(ctx.settings.headerTimeout);
  boost::system::error_code ec;
  co_await client.tls().async_handshake(asio::ssl::stream_base::server, ecTok(ec));
  live.expireNever();
  auto peer = ec ? std::nullopt : tls::peerIdentity(client.tls().native_handle());
  if (!peer) {
    results.with({"inbound", "failed"}).inc();
    logger()->debug("inbound mTLS handshake: {}",
                    ec ? ec.message() : std::string("client certificate without SPIFFE ID"));
    co_return;
  }
  results.with({"inbound", "ok"}).inc();
  std::string_view alpn = tls::negotiatedAlpn(client.tls().native_handle());
  if (alpn == tls::kAlpnTcp) {
    if (const config::Snapshot* t = ctx.table.get()) {
      authz::Request r;
      r.peer = *peer;
      r.port = dst.port();
      auto d = t->authorizer().check(r);
      if (!d.allowed) {
        ctx.metrics.authzDenied.with({"tcp"}).inc();
        logger()->debug("inbound tcp {}: {}", net::toString(dst), d.reason);
        co_return;
      }
    }
    beast::flat_buffer none;
    co_await forwardTcp(ctx, client, none, dst, redirected, true);
    co_return;
  }
  http::ConnInfo info;
  info.originalDst = dst;
  info.redirected = redirected;
  info.inbound = true;
  info.peer = client.socket().remote_endpoint(ec);
  info.peerRequests = &ctx.metrics.peerRequests.with({*peer});
  info.peerIdentity = std::move(peer);
  beast::flat_buffer buffer;
  co_await http::serveHttp1(ctx, live, client, buffer, info);
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
  net::Stream client(std::move(socket));
  net::LiveGuard live(ctx, client.socket());

  bool redirected = false;
  auto dst = net::originalDestination(client.socket(), redirected);
  if (inbound && !redirected && ctx.settings.inboundAppPort != 0) {
    dst = net::Tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), ctx.settings.inboundAppPort);
    redirected = true;
  }
  boost::system::error_code ec;
  client.socket().set_option(net::Tcp::no_delay(true), ec);

  bool opaque = false;
  if (redirected) {
    const auto& ports = ctx.settings.opaquePorts;
    opaque = std::find(ports.begin(), ports.end(), dst.port()) != ports.end() ||
             ctx.opaqueDestinations.count(dst) > 0;
  }
  const config::Snapshot* t = ctx.table.get();
  const api::Inbound* in = inbound && t != nullptr ? t->inbound() : nullptr;
  beast::flat_buffer buffer;
  if (inbound && (!opaque || ctx.settings.mtls)) {
    // Meshed callers speak TLS first, even to server-first ports, so every
    // inbound connection is looked at; a silent plaintext client costs the
    // detection timeout.
    auto peek = co_await peekInbound(ctx, client.socket());
    if (peek.closed) {
      co_return;
    }
    if (peek.hello == tls::HelloScan::kWeft) {
      co_await serveMtls(ctx, live.get(), client, dst, redirected);
      co_return;
    }
    if (peek.timedOut) {
      ctx.metrics.detectTimeouts.inc();
      // A server-first port stays opaque from now on, unless mTLS callers
      // could still come (they speak first).
      if (!ctx.settings.mtls && redirected &&
          ctx.opaqueDestinations.size() < net::WorkerContext::kMaxOpaqueDestinations) {
        ctx.opaqueDestinations.insert(dst);
      }
    }
    opaque = opaque || peek.timedOut || peek.detected != tcp::Detected::kHttp1;
  }
  // STRICT mTLS: plaintext inbound is refused, except kubelet probes on
  // their ports (HTTP only, checked per request).
  bool probesOnly = false;
  if (in != nullptr && in->mtls == api::MtlsMode::kStrict) {
    const auto& probes = in->probes;
    if (opaque || std::none_of(probes.begin(), probes.end(),
                               [&](const api::Probe& p) { return p.port == dst.port(); })) {
      refusePlaintext(ctx, dst);
      co_return;
    }
    probesOnly = true;
  }
  if (in != nullptr) {
    // Ports the Inbound document does not declare are opaque.
    const auto* p = t->findInboundPort(dst.port());
    opaque = opaque || p == nullptr || p->protocol == api::Protocol::kTcp;
  } else if (!inbound && t != nullptr) {
    if (const auto* out = t->findOutbound(net::toString(dst))) {
      opaque = opaque || out->protocol == api::Protocol::kTcp;
    }
  }
  if (inbound && opaque && t != nullptr && !t->authorizer().empty()) {
    authz::Request r;
    r.port = dst.port();
    auto d = t->authorizer().check(r);
    if (!d.allowed) {
      ctx.metrics.authzDenied.with({"tcp"}).inc();
      logger()->debug("inbound tcp {}: {}", net::toString(dst), d.reason);
      co_return;
    }
  }

  if (!opaque && !inbound) {
    DetectScope timer(client.socket(), ctx.settings.detectTimeout);
    tcp::Detected d = tcp::Detected::kNeedMore;
    while (d == tcp::Detected::kNeedMore) {
      std::size_t n = co_await client.async_read_some(buffer.prepare(512), ecTok(ec));
      buffer.commit(n);
      if (ec) {
        break;
      }
      auto data = buffer.data();
      d = tcp::detect(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    if (timer.fired()) {
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

  if (opaque) {
    co_await forwardTcp(ctx, client, buffer, dst, redirected, inbound);
    co_return;
  }
  http::ConnInfo info;
  info.originalDst = dst;
  info.redirected = redirected;
  info.inbound = inbound;
  info.plaintextProbesOnly = probesOnly;
  info.peer = client.socket().remote_endpoint(ec);
  if (inbound) {
    info.peerRequests = &ctx.metrics.peerRequests.with({""});
  }
  co_await http::serveHttp1(ctx, live.get(), client, buffer, info);
}

}  // namespace weft::proxy::app
