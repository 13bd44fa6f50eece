// OpenSSL contexts for mTLS between proxies, and the ClientHello scan.
#include "proxy/src/tls/credentials.h"

#include <cstdint>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace weft::proxy::tls {
namespace {

namespace ssl = boost::asio::ssl;

// ALPN wire format: each name prefixed by its length.
std::string wireList(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) {
    out.push_back(static_cast<char>(n.size()));
    out.append(n);
  }
  return out;
}

// The server picks the first Weft name the client offers; anything else
// fails the handshake, since only proxies should end up here.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  for (unsigned i = 0; i < inlen;) {
    unsigned n = in[i];
    if (i + 1 + n > inlen) {
      break;
    }
    std::string_view name(reinterpret_cast<const char*>(in + i + 1), n);
    if (name == kAlpnHttp1 || name == kAlpnTcp) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

Result<void> configure(ssl::context& ctx, bool server, const weft::tls::PKey& key,
                       std::span<const weft::tls::Cert> chain,
                       std::span<const weft::tls::Cert> roots) {
  SSL_CTX* c = ctx.native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  if (SSL_CTX_use_certificate(c, chain[0].get()) != 1 ||
      SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return makeError(ErrorCode::kInvalidArgument, "the key does not fit the certificate");
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(c, chain[i].get()) != 1) {
      return makeError(ErrorCode::kInvalidArgument, "cannot add an intermediate certificate");
    }
  }
  X509_STORE* store = X509_STORE_new();
  for (const auto& r : roots) {
    X509_STORE_add_cert(store, r.get());
  }
  SSL_CTX_set_cert_store(c, store);  // owns it now
  // Both sides must show a certificate from the bundle; the SPIFFE ID is
  // checked after the handshake, where the expected one is known.
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (server) {
    SSL_CTX_set_alpn_select_cb(c, &selectAlpn, nullptr);
    // Tickets would arrive after the handshake and make an idle pooled
    // connection look unusable (bytes waiting); proxies keep connections instead.
    SSL_CTX_set_num_tickets(c, 0);
  }
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  return {};
}

weft::tls::Cert upRef(const weft::tls::Cert& c) {
  X509_up_ref(c.get());
  return weft::tls::Cert(c.get());
}

}  // namespace

Credentials::Credentials() : client_(ssl::context::tls_client), server_(ssl::context::tls_server) {}

Result<std::shared_ptr<const Credentials>> Credentials::create(
    const weft::tls::PKey& key, std::span<const weft::tls::Cert> chain,
    std::span<const weft::tls::Cert> roots) {
  std::shared_ptr<Credentials> c(new Credentials());
  if (auto r = c->build(key, chain, roots); !r) {
    return r.error();
  }
  return std::shared_ptr<const Credentials>(std::move(c));
}

Result<std::shared_ptr<const Credentials>> Credentials::withBundle(
    std::span<const weft::tls::Cert> roots) const {
  return create(key_, chain_, roots);
}

Result<void> Credentials::build(const weft::tls::PKey& key, std::span<const weft::tls::Cert> chain,
                                std::span<const weft::tls::Cert> roots) {
  if (chain.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "no certificate");
  }
  if (roots.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "empty trust bundle");
  }
  auto id = weft::tls::spiffeId(chain[0]);
  if (!id) {
    return makeError(ErrorCode::kInvalidArgument, "the certificate carries no SPIFFE ID");
  }
  if (!weft::tls::keyMatches(chain[0], key)) {
    return makeError(ErrorCode::kInvalidArgument, "the key does not fit the certificate");
  }
  for (bool server : {false, true}) {
    if (auto r = configure(server ? server_ : client_, server, key, chain, roots); !r) {
      return r;
    }
  }
  identity_ = *id;
  notAfter_ = weft::tls::notAfter(chain[0]);
  for (const auto& r : roots) {
    bundleFingerprints_.push_back(weft::tls::fingerprint(r));
  }
  EVP_PKEY_up_ref(key.get());
  key_ = weft::tls::PKey(key.get());
  for (const auto& c : chain) {
    chain_.push_back(upRef(c));
    chainFingerprints_.push_back(weft::tls::fingerprint(c));
  }
  return {};
}

void Credentials::present(ssl_st* ssl) const {
  SSL_use_certificate(ssl, chain_[0].get());
  SSL_use_PrivateKey(ssl, key_.get());
  for (std::size_t i = 1; i < chain_.size(); ++i) {
    SSL_add1_chain_cert(ssl, chain_[i].get());
  }
}

void setAlpn(ssl_st* ssl, std::string_view alpn) {
  std::string wire = wireList({alpn});
  SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                      static_cast<unsigned>(wire.size()));
}

std::string_view negotiatedAlpn(const ssl_st* ssl) {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return data == nullptr ? std::string_view()
                         : std::string_view(reinterpret_cast<const char*>(data), len);
}

std::optional<std::string> peerIdentity(const ssl_st* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    return std::nullopt;
  }
  X509_up_ref(peer);
  return weft::tls::spiffeId(weft::tls::Cert(peer));
}

HelloScan scanClientHello(std::string_view p) {
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(p[i]); };
  auto u16 = [&](std::size_t i) { return static_cast<std::size_t>(u8(i) << 8 | u8(i + 1)); };
  if (p.empty()) {
    return HelloScan::kNeedMore;
  }
  if (u8(0) != 0x16) {
    return HelloScan::kNotTls;
  }
  if (p.size() < 5) {
    return HelloScan::kNeedMore;
  }
  if (u8(1) != 0x03) {
    return HelloScan::kNotTls;
  }
  std::size_t recordLen = u16(3);
  if (p.size() < 5 + recordLen) {
    return HelloScan::kNeedMore;
  }
  // Only a ClientHello in one record is ours; anything unusual is the app's.
  std::string_view h = p.substr(5, recordLen);
  auto in = [&](std::size_t i, std::size_t n) { return i + n <= h.size(); };
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(h[i]); };
  auto w = [&](std::size_t i) { return static_cast<std::size_t>(b(i) << 8 | b(i + 1)); };
  if (!in(0, 4) || b(0) != 0x01) {
    return HelloScan::kForeignTls;
  }
  std::size_t i = 4 + 2 + 32;  // header, legacy version, random
  if (!in(i, 1)) {
    return HelloScan::kForeignTls;
  }
  i += 1 + b(i);  // session id
  if (!in(i, 2)) {
    return HelloScan::kForeignTls;
  }
  i += 2 + w(i);  // cipher suites
  if (!in(i, 1)) {
    return HelloScan::kForeignTls;
  }
  i += 1 + b(i);  // compression methods
  if (!in(i, 2)) {
    return HelloScan::kForeignTls;
  }
  std::size_t end = i + 2 + w(i);
  i += 2;
  if (end > h.size()) {
    return HelloScan::kForeignTls;
  }
  while (i + 4 <= end) {
    std::size_t type = w(i), len = w(i + 2);
    i += 4;
    if (i + len > end) {
      break;
    }
    if (type == 16 && len >= 2) {  // application_layer_protocol_negotiation
      std::size_t j = i + 2, listEnd = std::min(i + 2 + w(i), i + len);
      while (j < listEnd) {
        std::size_t n = b(j);
        if (j + 1 + n > listEnd) {
          break;
        }
        auto name = h.substr(j + 1, n);
        if (name == kAlpnHttp1 || name == kAlpnTcp) {
          return HelloScan::kWeft;
        }
        j += 1 + n;
      }
    }
    i += len;
  }
  return HelloScan::kForeignTls;
}

}  // namespace weft::proxy::tls
