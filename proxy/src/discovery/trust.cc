// Control-plane trust: an OpenSSL client context per set of roots.
#include "proxy/src/discovery/trust.h"

#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/tls/pki.h"

namespace weft::proxy::discovery {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ControlPlaneTrust>> ControlPlaneTrust::create(const std::string& rootsPem,
                                                                     Mode mode) {
  std::shared_ptr<ControlPlaneTrust> trust(new ControlPlaneTrust(mode));
  if (auto r = trust->set(rootsPem); !r) {
    return r.error();
  }
  return trust;
}

std::shared_ptr<ssl::context> ControlPlaneTrust::context() const {
  std::lock_guard lock(mu_);
  return context_;
}

Result<bool> ControlPlaneTrust::follow(const std::vector<std::string>& pems) {
  if (mode_ == Mode::kFixed || pems.empty()) {
    return false;
  }
  std::string joined;
  for (const auto& pem : pems) {
    joined += pem + "\n";
  }
  return set(joined);
}

std::vector<std::string> ControlPlaneTrust::fingerprints() const {
  std::lock_guard lock(mu_);
  return fingerprints_;
}

Result<bool> ControlPlaneTrust::set(const std::string& pem) {
  auto roots = weft::tls::parseCerts(pem);
  if (!roots) {
    return roots.error();
  }
  std::vector<std::string> fps;
  for (const auto& root : *roots) {
    fps.push_back(weft::tls::fingerprint(root));
  }
  {
    std::lock_guard lock(mu_);
    if (fps == fingerprints_) {
      return false;  // the same roots, however they were written
    }
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, nullptr);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx->native_handle());
  for (const auto& root : *roots) {
    if (X509_STORE_add_cert(store, root.get()) != 1) {
      return makeError(ErrorCode::kInvalidArgument, "cannot add a root to the trust store");
    }
  }
  std::lock_guard lock(mu_);
  fingerprints_ = std::move(fps);
  context_ = std::move(ctx);
  return true;
}

}  // namespace weft::proxy::discovery
