// The proxy's workload identity: an ECDSA P-256 key made in memory (never
// written anywhere), a CSR sent with the pod's service-account token to the
// control plane's certify call (docs/api.md), and renewal at 70 % of the
// certificate's lifetime with backoff. While the CA is unreachable the old
// certificate stays in use until it expires. Each new certificate or trust
// bundle becomes a new immutable Credentials, handed to the callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "proxy/src/discovery/trust.h"
#include "proxy/src/tls/credentials.h"

namespace weft::proxy::identity {

struct IdentityOptions {
  std::string host;  // control plane, as for discovery
  std::uint16_t port = 8443;
  std::string serverName;  // defaults to host
  // Roots of the control plane's serving certificate; the certify answer's
  // trust bundle is handed to it (it ignores it unless it follows the mesh).
  std::shared_ptr<discovery::ControlPlaneTrust> trust;
  // Re-read before every request: the kubelet rotates the projected token.
  std::string tokenFile;
  std::string spiffeId;  // the identity to ask for
  double renewAt = 0.7;  // fraction of the lifetime
  std::chrono::milliseconds backoffBase{500};
  std::chrono::milliseconds backoffMax{30000};
  std::chrono::milliseconds requestTimeout{10000};
};

struct IdentityStats {
  std::uint64_t issued = 0;    // certificates received
  std::uint64_t failures = 0;  // certify calls that failed
};

// Runs its own thread. The callback runs on that thread; post and return.
class IdentityClient {
 public:
  using OnCredentials = std::function<void(std::shared_ptr<const tls::Credentials>)>;

  static Result<std::unique_ptr<IdentityClient>> create(IdentityOptions options,
                                                        OnCredentials onCredentials);
  ~IdentityClient();  // stop()s
  IdentityClient(const IdentityClient&) = delete;
  IdentityClient& operator=(const IdentityClient&) = delete;

  void start();
  void stop();  // idempotent

  // A trust bundle from the Inbound document (PEM roots). When it differs
  // from the one in use, the credentials are rebuilt with it. Thread-safe.
  void setTrustBundle(std::vector<std::string> pems);

  // The credentials in use, null before the first certificate or once it
  // expired without renewal. Thread-safe.
  std::shared_ptr<const tls::Credentials> current() const;
  IdentityStats stats() const;

 private:
  struct Impl;
  explicit IdentityClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::proxy::identity
