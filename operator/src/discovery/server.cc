// The discovery stream server on Boost.Beast coroutines.
#include "operator/src/discovery/server.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/asio.h"
#include "common/http/listen.h"
#include "common/strings.h"
// Asio first (common/asio.h), then Beast.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/api/documents.h"
#include "common/json/json.h"
#include "common/log/log.h"

namespace weft::op::discovery {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

Result<std::string> percentDecode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        return makeError(ErrorCode::kInvalidArgument, "bad percent-encoding");
      }
      int hi = hexDigitValue(in[i + 1]);
      int lo = hexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return makeError(ErrorCode::kInvalidArgument, "bad percent-encoding");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

bool dnsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool dnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

struct Sub {
  explicit Sub(net::io_context& io) : timer(io) {}
  Stream stream = Stream::kOutbound;
  std::string key;
  bool dirty = false;
  bool closed = false;
  bool writing = false;
  std::string sent;  // version of the last document written
  net::steady_timer timer;
  std::function<void()> close;
};

}  // namespace

Result<ListenAddress> parseListen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return makeError(ErrorCode::kInvalidArgument, "expected IP:PORT, got \"" + text + "\"");
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  net::ip::make_address(host, ec);
  if (ec || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return makeError(ErrorCode::kInvalidArgument, "expected IP:PORT, got \"" + text + "\"");
  }
  return ListenAddress{host, static_cast<std::uint16_t>(std::stoi(port))};
}

Result<StreamRequest> parseTarget(const std::string& target) {
  auto q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  const char* param = nullptr;
  StreamRequest req;
  if (path == "/v1/discovery/outbound") {
    param = "authority";
    req.stream = Stream::kOutbound;
  } else if (path == "/v1/discovery/inbound") {
    param = "pod";
    req.stream = Stream::kInbound;
  } else {
    return makeError(ErrorCode::kNotFound, "no such endpoint: " + path);
  }
  std::optional<std::string> value;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    std::string name = part.substr(0, part.find('='));
    if (name == param && part.find('=') != std::string::npos) {
      auto v = percentDecode(part.substr(part.find('=') + 1));
      if (!v) {
        return v.error();
      }
      if (value) {
        return makeError(ErrorCode::kInvalidArgument, std::string(param) + " given twice");
      }
      value = *v;
    }
    if (amp == std::string::npos) {
      break;
    }
    pos = amp + 1;
  }
  if (!value) {
    return makeError(ErrorCode::kInvalidArgument, std::string("missing query parameter ") + param);
  }
  if (req.stream == Stream::kOutbound) {
    auto hp = api::parseAuthority(*value);
    if (!hp) {
      return makeError(ErrorCode::kInvalidArgument, "authority: " + hp.error().message);
    }
    req.key = hp->str();
  } else {
    auto slash = value->find('/');
    std::string ns = value->substr(0, slash);
    std::string name = slash == std::string::npos ? "" : value->substr(slash + 1);
    if (!dnsLabel(ns) || !dnsSubdomain(name)) {
      return makeError(ErrorCode::kInvalidArgument, "pod: expected NAMESPACE/NAME");
    }
    req.key = ns + "/" + name;
  }
  return req;
}

struct Server::Impl {
  Impl(net::io_context& ioIn, DocumentTable& tableIn, ServerOptions opts)
      : io(ioIn),
        table(tableIn),
        options(std::move(opts)),
        acceptor(ioIn),
        latency(std::size(kLatencyBounds) + 1, 0) {
    for (const char* reason : kRefusalReasons) {
      refused[reason] = 0;
    }
  }

  net::io_context& io;
  DocumentTable& table;
  ServerOptions options;
  // Replaced whole by setCertificate(); a connection keeps the one it began with.
  std::shared_ptr<ssl::context> ctx;
  tcp::acceptor acceptor;
  bool stopped = false;
  std::map<std::pair<Stream, std::string>, std::set<Sub*>> subs;
  std::shared_ptr<spdlog::logger> logger = log::get("operator.discovery");

  std::size_t open = 0;
  std::uint64_t total = 0;
  std::uint64_t pushes = 0;
  std::uint64_t coalesced = 0;
  std::uint64_t rejected = 0;
  std::map<std::string, std::uint64_t> refused;
  TrustAnchors anchors;
  double latencySum = 0;
  std::vector<std::uint64_t> latency;

  void observe(double seconds) {
    if (options.onPush) {
      options.onPush(seconds);
    }
    latencySum += seconds;
    std::size_t i = 0;
    while (i < std::size(kLatencyBounds) && seconds > kLatencyBounds[i]) {
      ++i;
    }
    ++latency[i];
  }

  void delivered() const {
    if (options.onDelivery) {
      options.onDelivery();
    }
  }

  DocumentPtr lookup(const Sub& sub) const {
    return sub.stream == Stream::kOutbound ? table.outbound(sub.key) : table.inbound(sub.key);
  }

  std::optional<Refusal> authorize(TlsStream& s, const StreamRequest& target,
                                   Presented& presented) const {
    presented = checkPeer(s.native_handle(), anchors.roots(), std::chrono::system_clock::now());
    MeshFacts mesh;
    mesh.anchorsLoaded = anchors.loaded();
    mesh.trustDomain = options.trustDomain ? options.trustDomain() : "cluster.local";
    if (presented.kind == Presented::Kind::kValid && target.stream == Stream::kInbound &&
        options.podIdentity) {
      mesh.podIdentity = options.podIdentity(target.key);
    }
    return discovery::authorize(options.clientAuth, presented, target.stream, target.key, mesh);
  }
};

namespace {

using ImplPtr = std::shared_ptr<Server::Impl>;

auto onError(ImplPtr impl) {
  return [impl](std::exception_ptr e) {
    if (!e) {
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      impl->logger->error("discovery connection failed: {}", ex.what());
    }
    ++impl->rejected;
  };
}

// Sends `res` and ends the TLS session: every answer but a stream closes.
net::awaitable<void> writeAndClose(TlsStream& s, http::response<http::string_body>& res,
                                   std::chrono::milliseconds timeout) {
  res.set(http::field::connection, "close");
  res.prepare_payload();
  beast::error_code ec;
  beast::get_lowest_layer(s).expires_after(timeout);
  co_await http::async_write(s, res, net::redirect_error(net::use_awaitable, ec));
  if (!ec) {
    co_await s.async_shutdown(net::redirect_error(net::use_awaitable, ec));
  }
}

net::awaitable<void> writeSimple(TlsStream& s, unsigned version, http::status status,
                                 std::string body, std::chrono::milliseconds timeout) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body) + "\n";
  co_await writeAndClose(s, res, timeout);
}

constexpr std::string_view kCertifyPath = "/v1/identity/certify";

net::awaitable<void> writeJson(TlsStream& s, unsigned version, const CertifyReply& reply,
                               std::chrono::milliseconds timeout) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  if (reply.retryAfterSeconds > 0) {
    res.set(http::field::retry_after, std::to_string(reply.retryAfterSeconds));
  }
  res.body() = reply.body + "\n";
  co_await writeAndClose(s, res, timeout);
}

CertifyReply errorReply(int status, const std::string& why) {
  return CertifyReply{status, json::dump(json::Json{{"error", why}}), 0};
}

// POST /v1/identity/certify: the body within its limit and the read timeout,
// then the handler, awaited on a timer so the io thread never blocks.
net::awaitable<void> certify(ImplPtr self, TlsStream& s, beast::flat_buffer& buffer,
                             http::request_parser<http::string_body>& parser,
                             beast::error_code ec) {
  unsigned version = parser.get().version();
  if (!ec && parser.get().method() != http::verb::post) {
    ++self->rejected;
    co_await writeJson(s, version, errorReply(405, "use POST"), self->options.writeTimeout);
    co_return;
  }
  if (!ec && !parser.is_done()) {
    co_await http::async_read(s, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  }
  if (ec) {
    ++self->rejected;
    if (ec == http::error::body_limit) {
      co_await writeJson(s, version, errorReply(413, "body larger than the limit"),
                         self->options.writeTimeout);
    } else if (ec != http::error::end_of_stream && ec != beast::error::timeout) {
      co_await writeJson(s, version, errorReply(400, "bad request: " + ec.message()),
                         self->options.writeTimeout);
    }
    co_return;
  }
  if (!self->options.certify || self->stopped) {
    co_await writeJson(s, version, errorReply(503, "the issuer is not loaded yet"),
                       self->options.writeTimeout);
    co_return;
  }
  beast::get_lowest_layer(s).expires_never();
  struct Pending {
    explicit Pending(net::io_context& io) : timer(io) {}
    std::optional<CertifyReply> reply;
    net::steady_timer timer;
  };
  auto pending = std::make_shared<Pending>(self->io);
  auto& req = parser.get();
  self->options.certify(std::string(req[http::field::authorization]), std::move(req.body()),
                        [pending](CertifyReply r) {
                          pending->reply = std::move(r);
                          pending->timer.cancel();
                        });
  while (!pending->reply) {
    pending->timer.expires_at(std::chrono::steady_clock::time_point::max());
    co_await pending->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  co_await writeJson(s, version, *pending->reply, self->options.writeTimeout);
}

net::awaitable<void> reader(std::shared_ptr<TlsStream> conn, std::shared_ptr<Sub> sub) {
  char buf[256];
  beast::error_code ec;
  for (;;) {
    // A subscriber sends nothing after its request; this read only notices the close.
    co_await conn->async_read_some(net::buffer(buf), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      break;
    }
  }
  sub->closed = true;
  sub->timer.cancel();
}

net::awaitable<void> session(ImplPtr self, tcp::socket socket) {
  beast::error_code ec;
  // The stream's deleter keeps its context alive: asio's context owns the
  // verify callback that the connection's handshake calls.
  std::shared_ptr<TlsStream> conn(new TlsStream(std::move(socket), *self->ctx),
                                  [ctx = self->ctx](TlsStream* s) { delete s; });
  TlsStream& s = *conn;
  beast::get_lowest_layer(s).expires_after(self->options.handshakeTimeout);
  co_await s.async_handshake(ssl::stream_base::server, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    ++self->rejected;
    self->logger->debug("TLS handshake failed: {}", ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(self->options.maxCertifyBody);
  beast::get_lowest_layer(s).expires_after(self->options.readTimeout);
  co_await http::async_read_header(s, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  // A Content-Length over the limit fails the header read, after the target was parsed.
  if ((!ec || ec == http::error::body_limit) &&
      parser.get().target().substr(0, parser.get().target().find('?')) == kCertifyPath) {
    co_await certify(self, s, buffer, parser, ec);
    co_return;
  }
  if (!ec && !parser.is_done()) {
    ec = http::error::unexpected_body;  // streams are subscribed with a bare GET
  }
  if (ec) {
    ++self->rejected;
    if (ec != http::error::end_of_stream) {
      co_await writeSimple(s, 11, http::status::bad_request, "bad request: " + ec.message(),
                           self->options.writeTimeout);
    }
    co_return;
  }
  const auto& req = parser.get();
  if (req.method() != http::verb::get) {
    ++self->rejected;
    co_await writeSimple(s, req.version(), http::status::method_not_allowed, "use GET",
                         self->options.writeTimeout);
    co_return;
  }
  auto target = parseTarget(std::string(req.target()));
  if (!target) {
    ++self->rejected;
    co_await writeSimple(s, req.version(),
                         target.error().code == ErrorCode::kNotFound ? http::status::not_found
                                                                     : http::status::bad_request,
                         target.error().message, self->options.writeTimeout);
    co_return;
  }
  if (req.version() < 11) {
    ++self->rejected;
    co_await writeSimple(s, req.version(), http::status::http_version_not_supported,
                         "streams need HTTP/1.1", self->options.writeTimeout);
    co_return;
  }
  Presented presented;
  if (auto refusal = self->authorize(s, *target, presented)) {
    ++self->refused[refusal->reason];
    self->logger->debug("subscription to {} refused ({}): {}", target->key, refusal->status,
                        refusal->message);
    co_await writeJson(s, req.version(), errorReply(refusal->status, refusal->message),
                       self->options.writeTimeout);
    co_return;
  }
  if (self->open >= self->options.maxStreams || self->stopped) {
    ++self->rejected;
    co_await writeSimple(s, req.version(), http::status::service_unavailable, "too many streams",
                         self->options.writeTimeout);
    co_return;
  }

  http::response<http::empty_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/x-ndjson");
  res.set(http::field::cache_control, "no-store");
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  beast::get_lowest_layer(s).expires_after(self->options.writeTimeout);
  co_await http::async_write_header(s, sr, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    co_return;
  }

  // The stream lasts as long as the certificate it was opened with: the
  // proxy comes back with its renewed one.
  auto expiry = std::chrono::steady_clock::time_point::max();
  if (auto left = presented.notAfter - std::chrono::system_clock::now();
      presented.kind == Presented::Kind::kValid && left < std::chrono::hours(24 * 366)) {
    expiry = std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
  }
  auto sub = std::make_shared<Sub>(self->io);
  sub->stream = target->stream;
  sub->key = target->key;
  std::weak_ptr<TlsStream> weak = conn;
  sub->close = [weak] {
    if (auto c = weak.lock()) {
      beast::error_code ignored;
      beast::get_lowest_layer(*c).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  };
  auto& slot = self->subs[{sub->stream, sub->key}];
  slot.insert(sub.get());
  ++self->open;
  ++self->total;
  self->logger->debug("stream opened: {}", sub->key);
  self->delivered();

  beast::get_lowest_layer(s).expires_never();
  buffer.clear();
  buffer.shrink_to_fit();
  net::co_spawn(self->io, reader(conn, sub), net::detached);

  // Writes get their own deadline: the stream's timeout would also arm the
  // reader's next read, which then cuts the idle stream a while later.
  net::steady_timer writeDeadline(s.get_executor());
  bool first = true;
  for (;;) {
    sub->dirty = false;
    DocumentPtr doc = self->lookup(*sub);
    if (doc->version != sub->sent) {
      sub->writing = true;
      writeDeadline.expires_after(self->options.writeTimeout);
      writeDeadline.async_wait([conn](beast::error_code timer) {
        if (!timer) {  // the subscriber stopped reading
          beast::get_lowest_layer(*conn).close();
        }
      });
      co_await net::async_write(s, http::make_chunk(net::buffer(doc->line)),
                                net::redirect_error(net::use_awaitable, ec));
      writeDeadline.cancel();
      sub->writing = false;
      if (ec) {
        break;
      }
      sub->sent = doc->version;
      ++self->pushes;
      self->delivered();
      if (!first) {
        self->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - doc->publishedAt)
                .count());
      }
      first = false;
    }
    if (sub->closed || self->stopped) {
      break;
    }
    if (!sub->dirty) {
      sub->timer.expires_at(expiry);
      co_await sub->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    if (sub->closed || self->stopped) {
      break;
    }
    if (std::chrono::steady_clock::now() >= expiry) {
      self->logger->debug("stream {}: the client certificate expired", sub->key);
      break;
    }
  }
  auto it = self->subs.find({sub->stream, sub->key});
  if (it != self->subs.end()) {
    it->second.erase(sub.get());
    if (it->second.empty()) {
      self->subs.erase(it);
    }
  }
  --self->open;
  self->logger->debug("stream closed: {}", sub->key);
  self->delivered();
  beast::error_code ignored;
  beast::get_lowest_layer(s).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(s).close();
}

net::awaitable<void> acceptLoop(ImplPtr self) {
  net::steady_timer pause(self->io);
  for (;;) {
    beast::error_code ec;
    tcp::socket socket =
        co_await self->acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!self->acceptor.is_open() || self->stopped) {
        co_return;
      }
      // Out of file descriptors and the like: back off instead of spinning.
      self->logger->warn("accept: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    socket.set_option(net::socket_base::keep_alive(true), ec);
    net::co_spawn(self->io, session(self, std::move(socket)), onError(self));
  }
}

Result<std::shared_ptr<ssl::context>> makeContext(const CertificatePair& cert) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Streams are idle most of the time: give OpenSSL's buffers back between writes.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  // Ask every client for its certificate but decide after the handshake, so
  // that a refusal is an HTTP answer saying why, and certify needs none. No
  // resumption: each connection shows its certificate afresh.
  ctx->set_verify_mode(ssl::verify_peer, ec);
  ctx->set_verify_callback([](bool, ssl::verify_context&) { return true; }, ec);
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_TICKET);
  ctx->use_certificate_chain(net::buffer(cert.certPem), ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "serving certificate: " + ec.message());
  }
  ctx->use_private_key(net::buffer(cert.keyPem), ssl::context::pem, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "serving key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return makeError(ErrorCode::kInvalidArgument,
                     "serving key: it does not belong to the certificate");
  }
  return ctx;
}

}  // namespace

Result<std::unique_ptr<Server>> Server::create(net::io_context& io, DocumentTable& table,
                                               ServerOptions options) {
  auto addr = parseListen(options.listen);
  if (!addr) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--discovery-listen: " + options.listen + ": " + addr.error().message);
  }
  auto impl = std::make_shared<Impl>(io, table, std::move(options));
  auto ctx = makeContext(impl->options.certificate);
  if (!ctx) {
    return ctx.error();
  }
  impl->ctx = std::move(*ctx);
  impl->options.certificate.keyPem.clear();  // the context holds it
  beast::error_code ec;
  tcp::endpoint ep(net::ip::make_address(addr->ip, ec), addr->port);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "--discovery-listen: " + ec.message());
  }
  ec = weft::http::listenOn(impl->acceptor, ep);
  if (ec) {
    return makeError(ErrorCode::kUnavailable,
                     "--discovery-listen " + impl->options.listen + ": " + ec.message());
  }
  net::co_spawn(io, acceptLoop(impl), onError(impl));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::notify(Stream stream, const std::string& key) {
  auto it = impl_->subs.find({stream, key});
  if (it == impl_->subs.end()) {
    return;
  }
  for (Sub* sub : it->second) {
    if (sub->dirty && sub->writing) {
      ++impl_->coalesced;
    }
    sub->dirty = true;
    sub->timer.cancel();
  }
}

Result<void> Server::setCertificate(const CertificatePair& certificate) {
  auto ctx = makeContext(certificate);
  if (!ctx) {
    return ctx.error();
  }
  impl_->ctx = std::move(*ctx);
  return {};
}

Result<void> Server::setTrustBundle(const std::vector<std::string>& pems) {
  return impl_->anchors.set(pems);
}

void Server::stop() {
  if (impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& [k, set] : impl_->subs) {
    for (Sub* sub : set) {
      sub->closed = true;
      sub->timer.cancel();
      sub->close();
    }
  }
}

Deliveries Server::deliveries() const {
  Deliveries out;
  for (const auto& [id, set] : impl_->subs) {
    if (set.empty()) {
      continue;
    }
    DocumentPtr doc = impl_->lookup(**set.begin());
    Delivery& d = out[doc->version];
    for (const Sub* sub : set) {
      ++d.subscribed;
      if (sub->sent == doc->version) {
        ++d.delivered;
      }
    }
  }
  return out;
}

ServerStats Server::stats() const {
  ServerStats s;
  s.openStreams = impl_->open;
  s.streamsTotal = impl_->total;
  s.pushes = impl_->pushes;
  s.coalesced = impl_->coalesced;
  s.rejected = impl_->rejected;
  s.refused = impl_->refused;
  s.pushLatencySecondsSum = impl_->latencySum;
  s.pushLatencyBuckets = impl_->latency;
  return s;
}

}  // namespace weft::op::discovery
