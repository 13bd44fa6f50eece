// Certificates: the keeper thread.
#include "operator/src/app/certificates.h"

#include <algorithm>

#include <fmt/chrono.h>

#include "common/log/log.h"
#include "operator/src/identity/keeper.h"

namespace weft::op::app {
namespace {

std::int64_t seconds(identity::SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

constexpr std::chrono::seconds kRetry{5};

}  // namespace

Certificates::Certificates(CertificatesOptions options, identity::Certifier& certifier,
                           metrics::Registry& registry)
    : options_(std::move(options)),
      certifier_(certifier),
      expiry_(registry.gauge("weft_operator_certificate_expiry_timestamp_seconds",
                             "When the operator's certificates expire (Unix seconds)",
                             {"certificate"})) {}

Certificates::~Certificates() { stop(); }

void Certificates::start() {
  thread_ = std::thread([this] { run(); });
}

void Certificates::poke() {
  std::lock_guard lock(mu_);
  poked_ = true;
  cv_.notify_all();
}

void Certificates::stop() {
  stop_.stop();
  {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Certificates::run() {
  while (!stop_.stopped()) {
    bool ok = syncOnce();
    std::chrono::milliseconds wait = ok ? options_.interval : kRetry;
    if (discoveryRenewal_) {
      // A short-lived discovery certificate is renewed on time, not a round
      // late. Due already: the round just missed it (renew at once), or it
      // failed (wait like any failure, never spin).
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          *discoveryRenewal_ - std::chrono::system_clock::now());
      if (until.count() > 0) {
        wait = std::min(until, wait);
      } else if (ok) {
        wait = std::chrono::milliseconds(100);
      }
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return poked_ || stop_.stopped(); });
    poked_ = false;
  }
}

bool Certificates::syncOnce() {
  auto logger = log::get("operator.identity");
  auto now = std::chrono::system_clock::now();
  bool leader = !options_.leader || options_.leader();
  Result<identity::IssuerPtr> issuer = makeError(ErrorCode::kInternal, "unset");
  if (options_.api) {
    issuer = identity::syncKubeIssuer(*options_.api, options_.ns, leader, now);
  } else if (!options_.issuerDir.empty()) {
    issuer = identity::syncDirIssuer(options_.issuerDir, now);
  } else {
    if (memory_.certPem.empty()) {
      auto made = identity::createCa(now);
      if (made) {
        memory_ = std::move(*made);
      }
    } else if (auto cert = tls::parseCert(memory_.certPem);
               cert && identity::dueForRenewal(*cert, now)) {
      if (auto renewed = identity::renewIssuer(memory_, now)) {
        memory_ = std::move(*renewed);
      }
    }
    issuer = identity::loadIssuer(memory_, now);
  }
  bool ok = true;
  if (!issuer) {
    logger->warn("mesh issuer: {}", issuer.error().message);
    ok = false;
  } else {
    const auto& is = **issuer;
    auto previous = certifier_.issuer();
    if (!previous || previous->certPem != is.certPem || previous->trustBundle != is.trustBundle) {
      logger->info("mesh issuer loaded: {} until {:%Y-%m-%dT%H:%M:%SZ}, {} root(s) trusted",
                   tls::fingerprint(is.cert).substr(0, 16),
                   fmt::gmtime(std::chrono::system_clock::to_time_t(tls::notAfter(is.cert))),
                   is.trustBundle.size());
    }
    certifier_.setIssuer(*issuer);
    expiry_.with({"issuer"}).set(seconds(tls::notAfter(is.cert)));
    // The first root to expire is the one to watch.
    std::optional<identity::SystemTime> rootExpiry;
    for (const auto& pem : is.trustBundle) {
      if (auto root = tls::parseCert(pem); root) {
        auto t = tls::notAfter(*root);
        rootExpiry = rootExpiry ? std::min(*rootExpiry, t) : t;
      }
    }
    if (rootExpiry) {
      expiry_.with({"root"}).set(seconds(*rootExpiry));
    }
    if (options_.onTrustBundle) {
      options_.onTrustBundle(is.trustBundle);
    }
  }
  if (!options_.discoveryNames.empty() && !syncDiscovery(now)) {
    ok = false;
  }
  if (options_.api && leader) {
    auto injector = identity::syncInjectorCerts(*options_.api, options_.ns, now);
    if (!injector) {
      logger->warn("injector certificate: {}", injector.error().message);
      ok = false;
    } else {
      expiry_.with({"injector"}).set(seconds(*injector));
    }
  }
  return ok;
}

// From the issuer in use, loaded this round or before: an API server that is
// away does not stop the renewal.
bool Certificates::syncDiscovery(identity::SystemTime now) {
  auto issuer = certifier_.issuer();
  if (!issuer) {
    return false;  // the issuer's own problem was logged above
  }
  auto logger = log::get("operator.identity");
  auto next = identity::syncDiscoveryCert(*issuer, options_.discoveryNames, discoveryPem_, now,
                                          options_.discoveryLifetime);
  if (!next) {
    logger->warn("{}", next.error().message);
    return false;
  }
  if (*next) {
    auto leaf = tls::parseCert((*next)->certPem);
    if (!leaf) {
      logger->warn("discovery serving certificate: {}", leaf.error().message);
      return false;
    }
    std::string names;
    for (const auto& n : options_.discoveryNames) {
      names += (names.empty() ? "" : ", ") + n;
    }
    logger->info(
        "discovery serving certificate issued by the mesh issuer for {} until "
        "{:%Y-%m-%dT%H:%M:%SZ}",
        names, fmt::gmtime(std::chrono::system_clock::to_time_t(tls::notAfter(*leaf))));
    discoveryPem_ = (*next)->certPem;
    discoveryRenewal_ = identity::renewalTime(*leaf);
    expiry_.with({"discovery"}).set(seconds(tls::notAfter(*leaf)));
    if (options_.onDiscoveryCertificate) {
      options_.onDiscoveryCertificate(std::move(**next));
    }
  }
  return true;
}

}  // namespace weft::op::app
