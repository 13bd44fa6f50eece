// The workload's mTLS credentials as one immutable value: key, certificate
// chain and trust bundle, and the TLS 1.3 client and server contexts built
// from them. A new certificate or bundle makes a new Credentials; connections
// keep the one they started with, new handshakes take the newest.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"
#include "common/tls/pki.h"

struct ssl_st;

namespace weft::proxy::tls {

// ALPN between proxies names the protocol inside the tunnel (docs/api.md).
inline constexpr std::string_view kAlpnHttp1 = "weft/http1";
inline constexpr std::string_view kAlpnTcp = "weft/tcp";

class Credentials {
 public:
  // `chain` is leaf first; `roots` every trusted anchor (several during a
  // rotation). Refuses a key that does not match the leaf, a leaf without a
  // SPIFFE ID, or an empty bundle.
  static Result<std::shared_ptr<const Credentials>> create(const weft::tls::PKey& key,
                                                           std::span<const weft::tls::Cert> chain,
                                                           std::span<const weft::tls::Cert> roots);
  // The same key and chain with another trust bundle.
  Result<std::shared_ptr<const Credentials>> withBundle(
      std::span<const weft::tls::Cert> roots) const;

  // SSL_new on a context is thread-safe, so workers share these read-only;
  // asio wants a non-const reference to make a stream.
  boost::asio::ssl::context& client() const { return client_; }
  boost::asio::ssl::context& server() const { return server_; }

  // Puts the workload certificate, its chain and key on one connection made
  // from another context (e.g. to the control plane).
  void present(ssl_st* ssl) const;

  const std::string& identity() const { return identity_; }
  weft::tls::SystemTime notAfter() const { return notAfter_; }
  const std::vector<std::string>& bundleFingerprints() const { return bundleFingerprints_; }
  // SHA-256 of the leaf, then of each issuer: which chain is in use (rotations).
  const std::vector<std::string>& chainFingerprints() const { return chainFingerprints_; }

 private:
  Credentials();
  Result<void> build(const weft::tls::PKey& key, std::span<const weft::tls::Cert> chain,
                     std::span<const weft::tls::Cert> roots);

  mutable boost::asio::ssl::context client_;
  mutable boost::asio::ssl::context server_;
  std::string identity_;
  weft::tls::SystemTime notAfter_;
  std::vector<std::string> bundleFingerprints_;
  std::vector<std::string> chainFingerprints_;
  // Kept to rebuild with a new bundle; in memory only.
  weft::tls::PKey key_;
  std::vector<weft::tls::Cert> chain_;
};

// Asks for `alpn` on a client connection before its handshake.
void setAlpn(ssl_st* ssl, std::string_view alpn);
// The protocol the handshake agreed on; empty if none.
std::string_view negotiatedAlpn(const ssl_st* ssl);
// The verified peer's SPIFFE ID, if its certificate carries one.
std::optional<std::string> peerIdentity(const ssl_st* ssl);

// Whether a TLS ClientHello offers one of the Weft ALPN names.
enum class HelloScan { kNeedMore, kNotTls, kWeft, kForeignTls };
// `prefix` is the start of a client's stream; kNeedMore until the whole
// ClientHello record (at most 16 KiB) is there.
HelloScan scanClientHello(std::string_view prefix);

}  // namespace weft::proxy::tls
