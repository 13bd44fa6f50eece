// Identity client: CSR, certify over HTTPS (Beast), renewal timer.
#include "proxy/src/identity/identity_client.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "common/api/json.h"
#include "common/asio.h"
#include "common/file.h"
#include "common/log/log.h"
#include "common/strings.h"
#include "common/tls/pki.h"
#include "proxy/src/discovery/backoff.h"
#include "proxy/src/discovery/control_plane.h"

namespace weft::proxy::identity {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SystemClock = std::chrono::system_clock;

constexpr std::uint32_t kMaxResponseBytes = 1u << 20;
constexpr std::size_t kMaxTokenBytes = 64 * 1024;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

Result<std::vector<weft::tls::Cert>> parseAll(const std::vector<std::string>& pems) {
  std::vector<weft::tls::Cert> out;
  for (const auto& p : pems) {
    auto c = weft::tls::parseCert(p);
    if (!c) {
      return c.error();
    }
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace

struct IdentityClient::Impl {
  IdentityOptions options;
  OnCredentials onCredentials;
  std::shared_ptr<spdlog::logger> log = log::get("proxy.identity");

  mutable std::mutex mu;
  std::shared_ptr<const tls::Credentials> current;
  std::vector<std::string> bundleFingerprints;  // of the bundle in use (io thread)

  std::atomic<std::uint64_t> issued{0}, failures{0};
  std::atomic<bool> stopping{false}, started{false};
  std::thread thread;
  asio::io_context ioc{1};  // last: pending frames go first

  void publish(std::shared_ptr<const tls::Credentials> c) {
    {
      std::lock_guard lock(mu);
      current = c;
    }
    bundleFingerprints = c ? c->bundleFingerprints() : std::vector<std::string>{};
    if (onCredentials) {
      onCredentials(std::move(c));
    }
  }

  std::shared_ptr<const tls::Credentials> held() const {
    std::lock_guard lock(mu);
    return current;
  }

  void applyBundle(const std::vector<std::string>& pems) {
    auto c = held();
    if (!c || pems.empty()) {
      return;
    }
    auto roots = parseAll(pems);
    if (!roots) {
      log->warn("trust bundle from the Inbound document refused: {}", roots.error().message);
      return;
    }
    std::vector<std::string> fps;
    for (const auto& r : *roots) {
      fps.push_back(weft::tls::fingerprint(r));
    }
    if (fps == bundleFingerprints) {
      return;
    }
    auto next = c->withBundle(*roots);
    if (!next) {
      log->warn("trust bundle from the Inbound document refused: {}", next.error().message);
      return;
    }
    log->info("trust bundle updated: {} roots", fps.size());
    publish(std::move(*next));
  }

  // One certify call with a fresh key; the credentials it yields.
  asio::awaitable<Result<std::shared_ptr<const tls::Credentials>>> certify() {
    using R = Result<std::shared_ptr<const tls::Credentials>>;
    auto token = readFile(options.tokenFile, kMaxTokenBytes);
    if (!token) {
      co_return R(token.error().context("token"));
    }
    auto key = weft::tls::generateKey();
    if (!key) {
      co_return R(key.error());
    }
    auto csr = weft::tls::makeCsr(*key, options.spiffeId);
    if (!csr) {
      co_return R(csr.error());
    }
    boost::system::error_code ec;
    auto fail = [&](const std::string& what) {
      return R(makeError(ErrorCode::kUnavailable, what + ": " + ec.message()));
    };
    tcp::resolver resolver(ioc);
    auto endpoints = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("resolving " + options.host);
    }
    auto ctx = options.trust->context();
    discovery::ControlPlaneStream stream(ioc, *ctx);
    const std::string& name = options.serverName;
    if (auto r = discovery::expectServer(stream, name); !r) {
      co_return R(r.error());
    }
    beast::get_lowest_layer(stream).expires_after(options.requestTimeout);  // the whole call
    if (auto r = co_await discovery::connectAndHandshake(
            stream, endpoints, options.host + ":" + std::to_string(options.port), name);
        !r) {
      co_return R(r.error());
    }
    http::request<http::string_body> req{http::verb::post, "/v1/identity/certify", 11};
    req.set(http::field::host, name + ":" + std::to_string(options.port));
    req.set(http::field::authorization, "Bearer " + trim(std::move(*token)));
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "weft-proxy");
    req.body() = json::dump(api::toJson(api::CertifyRequest{*csr}));
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("sending the CSR");
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return fail("reading the certify answer");
    }
    const auto& res = parser.get();
    auto doc = json::parse(res.body());
    if (res.result() != http::status::ok) {
      std::string why = doc ? json::getStringOr(*doc, "/error", "").valueOr("") : "";
      co_return R(makeError(
          ErrorCode::kUnavailable,
          "certify: HTTP " + std::to_string(res.result_int()) + (why.empty() ? "" : ": " + why)));
    }
    if (!doc) {
      co_return R(doc.error().context("certify answer"));
    }
    auto answer = api::certifyResponseFromJson(*doc);
    if (!answer) {
      co_return R(answer.error());
    }
    auto chain = parseAll(answer->certificateChain);
    auto roots =
        chain ? parseAll(answer->trustBundle) : Result<std::vector<weft::tls::Cert>>(chain.error());
    if (!roots) {
      co_return R(roots.error().context("certify answer"));
    }
    if (answer->identity != options.spiffeId ||
        weft::tls::spiffeId((*chain)[0]) != options.spiffeId) {
      co_return R(makeError(ErrorCode::kInvalidArgument,
                            "certify answer: the certificate is not for " + options.spiffeId));
    }
    if (auto v =
            weft::tls::verifyChain((*chain)[0], std::span(chain->data() + 1, chain->size() - 1),
                                   *roots, SystemClock::now());
        !v) {
      co_return R(v.error().context("certify answer"));
    }
    // The bundle is the control plane's word, over a connection it verified.
    if (auto followed = options.trust->follow(answer->trustBundle); !followed) {
      log->warn("trust bundle of the certify answer not used for the control plane: {}",
                followed.error().message);
    } else if (*followed) {
      log->info("control plane verified against the mesh trust bundle ({} roots) from now on",
                answer->trustBundle.size());
    }
    co_return tls::Credentials::create(*key, *chain, *roots);
  }

  asio::awaitable<void> run() {
    discovery::Backoff backoff(options.backoffBase, options.backoffMax);
    asio::steady_timer timer(ioc);
    while (!stopping.load()) {
      auto r = co_await certify();
      std::chrono::milliseconds wait;
      auto now = SystemClock::now();
      if (r) {
        issued.fetch_add(1, std::memory_order_relaxed);
        backoff.reset();
        auto c = std::move(r).value();
        auto notAfter = c->notAfter();
        log->info("certificate for {} until {}", c->identity(), formatTime(notAfter));
        // Renew at renewAt of the remaining lifetime, counted from now.
        auto life = std::chrono::duration_cast<std::chrono::milliseconds>(notAfter - now);
        wait = std::max(std::chrono::milliseconds(100),
                        std::chrono::milliseconds(static_cast<std::int64_t>(
                            static_cast<double>(life.count()) * options.renewAt)));
        publish(std::move(c));
      } else {
        failures.fetch_add(1, std::memory_order_relaxed);
        wait = backoff.next();
        auto c = held();
        if (c && c->notAfter() <= now) {
          log->error("certificate expired and not renewed: {}", r.error().message);
          publish(nullptr);
        } else {
          log->warn("certify failed: {}; keeping the current certificate, retrying in {} ms",
                    r.error().message, wait.count());
        }
      }
      timer.expires_after(wait);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  static std::string formatTime(SystemClock::time_point t) {
    auto secs = SystemClock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
};

Result<std::unique_ptr<IdentityClient>> IdentityClient::create(IdentityOptions options,
                                                               OnCredentials onCredentials) {
  if (options.host.empty() || !options.trust) {
    return makeError(ErrorCode::kInvalidArgument, "identity: needs the control plane and its CA");
  }
  if (options.tokenFile.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "identity: no token file");
  }
  if (options.spiffeId.rfind("spiffe://", 0) != 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "identity: not a SPIFFE ID: '" + options.spiffeId + "'");
  }
  if (options.serverName.empty()) {
    options.serverName = options.host;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->onCredentials = std::move(onCredentials);
  return std::unique_ptr<IdentityClient>(new IdentityClient(std::move(impl)));
}

IdentityClient::IdentityClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

IdentityClient::~IdentityClient() { stop(); }

void IdentityClient::start() {
  if (impl_->started.exchange(true)) {
    return;
  }
  asio::co_spawn(impl_->ioc, impl_->run(), [impl = impl_.get()](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        impl->log->error("identity stopped on an exception: {}", ex.what());
      }
    }
  });
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

void IdentityClient::stop() {
  impl_->stopping.store(true);
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

void IdentityClient::setTrustBundle(std::vector<std::string> pems) {
  asio::post(impl_->ioc, [impl = impl_.get(), p = std::move(pems)] { impl->applyBundle(p); });
}

std::shared_ptr<const tls::Credentials> IdentityClient::current() const { return impl_->held(); }

IdentityStats IdentityClient::stats() const {
  return IdentityStats{impl_->issued.load(), impl_->failures.load()};
}

}  // namespace weft::proxy::identity
