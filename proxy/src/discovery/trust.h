// The roots the control plane's serving certificate must chain to, shared by
// the discovery streams and the certify call. Either fixed
// (--control-plane-ca: a certificate from outside the mesh), or the mesh's
// trust anchors (WEFT_TRUST_ANCHORS or --trust-anchors, as injected), which
// a newer trust bundle from the control plane (a certify answer, the Inbound
// document) replaces, so that after a trust-anchor rotation the proxy still
// trusts the control plane's certificate from the new issuer.
// Thread-safe: each new connection takes the context current at that moment.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace boost::asio::ssl {
class context;
}

namespace weft::proxy::discovery {

class ControlPlaneTrust {
 public:
  enum class Mode { kFixed, kFollowMesh };

  // `rootsPem`: one or more PEM certificates; refused (saying why) when none parses.
  static Result<std::shared_ptr<ControlPlaneTrust>> create(const std::string& rootsPem, Mode mode);

  // A TLS 1.2+ client context that verifies the server against the roots.
  std::shared_ptr<boost::asio::ssl::context> context() const;

  // kFollowMesh: these roots (one PEM each) from now on; kFixed: ignored.
  // A bundle that does not parse is refused, keeping the current roots.
  // True when the roots changed (compared by fingerprint, not text).
  Result<bool> follow(const std::vector<std::string>& pems);

  Mode mode() const { return mode_; }
  // SHA-256 of each root in use, for /config.
  std::vector<std::string> fingerprints() const;

 private:
  explicit ControlPlaneTrust(Mode mode) : mode_(mode) {}
  Result<bool> set(const std::string& pem);

  const Mode mode_;
  mutable std::mutex mu_;
  std::vector<std::string> fingerprints_;  // of the roots in use, in order
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace weft::proxy::discovery
