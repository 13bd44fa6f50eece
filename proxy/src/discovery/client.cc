// Discovery client: Beast HTTPS streams, NDJSON framing, reconnect with backoff.
#include "proxy/src/discovery/client.h"

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "common/asio.h"
#include "common/json/json.h"
#include "common/log/log.h"
#include "common/strings.h"
#include "proxy/src/discovery/backoff.h"
#include "proxy/src/discovery/control_plane.h"
#include "proxy/src/discovery/state.h"

namespace weft::proxy::discovery {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;

// Detects a dead peer on a quiet stream within about a minute instead of two hours.
void enableKeepalive(tcp::socket& socket) {
  int on = 1, idle = 30, interval = 10, count = 3;
  const int fd = socket.native_handle();
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

// One stream's cancellation hook: what it is waiting on right now (resolve, socket, timer),
// so that unsubscribe() can end it wherever it is. Used on the io_context thread only.
struct Subscription {
  bool cancelled = false;
  std::function<void()> cancel;
};

// Installs `cancel` for the duration of one wait.
class CancelScope {
 public:
  CancelScope(Subscription& sub, std::function<void()> cancel) : sub_(sub) {
    sub_.cancel = std::move(cancel);
  }
  ~CancelScope() { sub_.cancel = nullptr; }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  Subscription& sub_;
};

// The first kMaxErrorBody bytes of an error answer: its JSON "error", or the
// text itself on one line. Empty when nothing readable arrives.
constexpr std::size_t kMaxErrorBody = 1024;

asio::awaitable<std::string> readErrorBody(ControlPlaneStream& stream, beast::flat_buffer& buffer,
                                           http::response_parser<http::buffer_body>& parser) {
  std::string body;
  char chunk[512];
  boost::system::error_code ec;
  while (!parser.is_done() && body.size() < kMaxErrorBody) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    co_await http::async_read_some(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    body.append(chunk, sizeof chunk - parser.get().body().size);
    if (ec && ec != http::error::need_buffer) {
      break;
    }
  }
  body.resize(std::min(body.size(), kMaxErrorBody));
  if (auto doc = json::parse(body)) {
    if (auto why = json::getStringOr(*doc, "/error", ""); why && !why->empty()) {
      body = *why;
    }
  }
  for (char& c : body) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';  // one log line, no terminal escapes from the network
    }
  }
  co_return std::string(trimSpace(body));
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  OnSnapshot onSnapshot;
  std::shared_ptr<spdlog::logger> log = log::get("proxy.discovery");
  DiscoveryState state;                                       // on the io_context thread only
  std::map<std::string, std::shared_ptr<Subscription>> subs;  // idem; "" = inbound

  mutable std::mutex mu;
  config::SnapshotPtr current = config::Snapshot::empty();

  std::atomic<std::uint64_t> connects{0}, failures{0}, documents{0}, rejected{0}, snapshots{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::thread thread;
  // Last, so it is destroyed first: pending coroutine frames go before what they point to.
  asio::io_context ioc{1};

  static std::string streamName(const std::string& authority) {
    return authority.empty() ? "inbound" : "outbound " + authority;
  }

  void spawn(std::string authority) {
    auto sub = std::make_shared<Subscription>();
    subs[authority] = sub;
    asio::co_spawn(ioc, runStream(authority, sub), [this, authority](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log->error("discovery {} stopped on an exception: {}", streamName(authority), ex.what());
        }
      }
    });
  }

  void publish() {
    config::SnapshotPtr snapshot = state.build();
    {
      std::lock_guard lock(mu);
      current = snapshot;
    }
    snapshots.fetch_add(1, std::memory_order_relaxed);
    if (onSnapshot) {
      onSnapshot(snapshot);
    }
  }

  void handleLine(const std::string& authority, std::string_view line, bool& gotDocument) {
    auto changed = state.applyLine(authority, line);
    if (!changed) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      log->warn("discovery {}: refused a document, keeping the last good one: {}",
                streamName(authority), changed.error().message);
      return;
    }
    documents.fetch_add(1, std::memory_order_relaxed);
    gotDocument = true;
    if (*changed) {
      publish();
    }
  }

  void unsubscribe(const std::string& authority) {
    auto it = subs.find(authority);
    if (it == subs.end()) {
      return;
    }
    it->second->cancelled = true;
    if (it->second->cancel) {
      it->second->cancel();
    }
    subs.erase(it);
    if (state.removeOutbound(authority)) {
      publish();
    }
  }

  // The subscription is held by the frame: unsubscribe() may drop the map's reference.
  asio::awaitable<void> runStream(std::string authority, std::shared_ptr<Subscription> sub) {
    Backoff backoff(options.backoffBase, options.backoffMax);
    while (!stopping.load() && !sub->cancelled) {
      bool gotDocument = false;
      Error why = co_await streamOnce(authority, gotDocument, *sub);
      if (stopping.load() || sub->cancelled) {
        break;
      }
      failures.fetch_add(1, std::memory_order_relaxed);
      if (gotDocument) {
        backoff.reset();
      }
      const auto delay = backoff.next();
      log->warn("discovery {}: {}; keeping the last good configuration, retrying in {} ms",
                streamName(authority), why.message, delay.count());
      asio::steady_timer timer(ioc, delay);
      CancelScope scope(*sub, [&timer] { timer.cancel(); });
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // One connection, until it breaks; returns why it ended.
  asio::awaitable<Error> streamOnce(const std::string& authority, bool& gotDocument,
                                    Subscription& sub) {
    boost::system::error_code ec;
    auto fail = [&](const std::string& what) {
      return makeError(ErrorCode::kUnavailable, what + ": " + ec.message());
    };
    tcp::resolver resolver(ioc);
    std::optional<CancelScope> scope(std::in_place, sub, [&resolver] { resolver.cancel(); });
    auto endpoints = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("resolving " + options.host);
    }
    auto ctx = options.trust->context();  // the roots of the moment; the connection keeps them
    ControlPlaneStream stream(ioc, *ctx);
    scope.reset();
    scope.emplace(sub, [&stream] { beast::get_lowest_layer(stream).close(); });
    const std::string& name = options.serverName;
    if (auto r = expectServer(stream, name); !r) {
      co_return r.error();
    }
    if (options.presentCertificate) {
      options.presentCertificate(stream.native_handle());
    }
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options.connectTimeout);
    if (auto r = co_await connectAndHandshake(
            stream, endpoints, options.host + ":" + std::to_string(options.port), name);
        !r) {
      co_return r.error();
    }
    enableKeepalive(lowest.socket());
    const std::string target =
        authority.empty()
            ? "/v1/discovery/inbound?pod=" + percentEncode(options.pod.value_or(""), ":/")
            : "/v1/discovery/outbound?authority=" + percentEncode(authority, ":/");
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, name + ":" + std::to_string(options.port));
    req.set(http::field::accept, "application/x-ndjson");
    req.set(http::field::user_agent, "weft-proxy");
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("sending " + target);
    }
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    // A stream is unbounded; each line is bounded below. Beast 1.74 fails any
    // Content-Length against boost::none, so "no limit" is the largest value.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.header_limit(kMaxHeaderBytes);
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("reading the response to " + target);
    }
    if (parser.get().result() != http::status::ok) {
      // The refusal says why (e.g. 401: no workload certificate); still
      // within connectTimeout.
      std::string why = co_await readErrorBody(stream, buffer, parser);
      co_return makeError(ErrorCode::kUnavailable, target + ": HTTP " +
                                                       std::to_string(parser.get().result_int()) +
                                                       (why.empty() ? "" : ": " + why));
    }
    lowest.expires_never();  // documents come when the configuration changes, maybe never
    connects.fetch_add(1, std::memory_order_relaxed);
    log->debug("discovery {}: connected", streamName(authority));

    std::vector<char> chunk(kReadChunk);
    std::string pending;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      co_await http::async_read_some(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer) {
        ec = {};
      }
      if (sub.cancelled) {
        co_return makeError(ErrorCode::kUnavailable, "unsubscribed");
      }
      if (ec) {
        co_return fail("stream broke");
      }
      pending.append(chunk.data(), chunk.size() - parser.get().body().size);
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(pending.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        if (!line.empty()) {
          handleLine(authority, line, gotDocument);
        }
      }
      pending.erase(0, start);
      if (pending.size() > options.maxLineBytes) {
        co_return makeError(
            ErrorCode::kInvalidArgument,
            "a document longer than " + std::to_string(options.maxLineBytes) + " bytes");
      }
    }
    co_return makeError(ErrorCode::kUnavailable, "the server ended the stream");
  }
};

Result<std::unique_ptr<Client>> Client::create(ClientOptions options, OnSnapshot onSnapshot) {
  if (options.host.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "discovery: no control-plane host");
  }
  if (!options.trust) {
    return makeError(ErrorCode::kInvalidArgument,
                     "discovery: no roots to verify the control plane with");
  }
  if (options.serverName.empty()) {
    options.serverName = options.host;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->onSnapshot = std::move(onSnapshot);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() { stop(); }

void Client::start() {
  if (impl_->started.exchange(true)) {
    return;
  }
  if (impl_->options.pod) {
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->spawn(""); });
  }
  impl_->thread = std::thread([impl = impl_.get()] {
    auto guard = asio::make_work_guard(impl->ioc);
    impl->ioc.run();
  });
}

void Client::stop() {
  impl_->stopping.store(true);
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

void Client::subscribe(const std::string& authority) {
  auto key = api::parseAuthority(authority);
  if (!key) {
    impl_->log->debug("discovery: not subscribing to {}: {}", authority, key.error().message);
    return;
  }
  asio::post(impl_->ioc, [impl = impl_.get(), k = key->str()] {
    if (impl->state.addOutbound(k)) {
      impl->spawn(k);
    }
  });
}

void Client::unsubscribe(const std::string& authority) {
  auto key = api::parseAuthority(authority);
  if (!key) {
    return;
  }
  asio::post(impl_->ioc, [impl = impl_.get(), k = key->str()] { impl->unsubscribe(k); });
}

config::SnapshotPtr Client::current() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current;
}

ClientStats Client::stats() const {
  return ClientStats{impl_->connects.load(), impl_->failures.load(), impl_->documents.load(),
                     impl_->rejected.load(), impl_->snapshots.load()};
}

}  // namespace weft::proxy::discovery
