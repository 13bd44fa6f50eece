// Discovery client authentication: chain verification with common/tls, and
// the per-stream decision.
#include "operator/src/discovery/client_auth.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace weft::op::discovery {
namespace {

// A workload chain is leaf and issuer; more is never ours and only costs time.
constexpr std::size_t kMaxIntermediates = 4;

tls::Cert hold(X509* cert) {
  X509_up_ref(cert);
  return tls::Cert(cert);
}

}  // namespace

Result<ClientAuth> parseClientAuth(std::string_view text) {
  if (text == "require") {
    return ClientAuth::kRequire;
  }
  if (text == "optional") {
    return ClientAuth::kOptional;
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "expected 'require' or 'optional', got '" + std::string(text) + "'");
}

Result<void> TrustAnchors::set(const std::vector<std::string>& pems) {
  if (pems == pems_) {
    return {};
  }
  std::vector<tls::Cert> roots;
  for (const auto& pem : pems) {
    auto cert = tls::parseCert(pem);
    if (!cert) {
      return cert.error().context("trust bundle");
    }
    roots.push_back(std::move(*cert));
  }
  pems_ = pems;
  roots_ = std::move(roots);
  return {};
}

Presented checkChain(const tls::Cert* leaf, std::span<const tls::Cert> intermediates,
                     std::span<const tls::Cert> roots, tls::SystemTime now) {
  Presented out;
  if (leaf == nullptr || !*leaf) {
    return out;
  }
  out.kind = Presented::Kind::kInvalid;
  if (intermediates.size() > kMaxIntermediates) {
    out.why = "a chain of more than " + std::to_string(kMaxIntermediates + 1) + " certificates";
    return out;
  }
  if (auto ok = tls::verifyChain(*leaf, intermediates, roots, now); !ok) {
    out.why = ok.error().message + " (against the mesh trust bundle)";
    return out;
  }
  auto id = tls::spiffeId(*leaf);
  if (!id) {
    out.why = "the certificate carries no SPIFFE ID";
    return out;
  }
  out.kind = Presented::Kind::kValid;
  out.spiffeId = std::move(*id);
  out.notAfter = tls::notAfter(*leaf);
  return out;
}

Presented checkPeer(ssl_st* ssl, std::span<const tls::Cert> roots, tls::SystemTime now) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    return Presented{};
  }
  tls::Cert held = hold(leaf);
  std::vector<tls::Cert> intermediates;
  // On the server side the peer's chain leaves out its leaf.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl); chain != nullptr) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      intermediates.push_back(hold(sk_X509_value(chain, i)));
    }
  }
  return checkChain(&held, intermediates, roots, now);
}

std::optional<Refusal> authorize(ClientAuth mode, const Presented& presented, Stream stream,
                                 const std::string& key, const MeshFacts& mesh) {
  if (presented.kind == Presented::Kind::kNone) {
    if (mode == ClientAuth::kOptional) {
      return std::nullopt;
    }
    return Refusal{401, "no_certificate",
                   "a workload certificate is required to subscribe (present the one from POST "
                   "/v1/identity/certify)"};
  }
  if (!mesh.anchorsLoaded) {
    return Refusal{503, "unavailable", "the mesh trust bundle is not loaded yet; try again"};
  }
  if (presented.kind == Presented::Kind::kInvalid) {
    return Refusal{401, "invalid_certificate",
                   "the client certificate is refused: " + presented.why};
  }
  const std::string domain = "spiffe://" + mesh.trustDomain + "/";
  if (presented.spiffeId.rfind(domain, 0) != 0) {
    return Refusal{403, "forbidden",
                   presented.spiffeId + " is not in the mesh's trust domain " + mesh.trustDomain};
  }
  if (stream == Stream::kOutbound) {
    return std::nullopt;
  }
  if (!mesh.podIdentity) {
    return Refusal{403, "forbidden",
                   "pod " + key + " is not known to the control plane (yet): " +
                       presented.spiffeId + " may not subscribe to its Inbound stream"};
  }
  if (*mesh.podIdentity != presented.spiffeId) {
    return Refusal{403, "forbidden",
                   presented.spiffeId + " may not subscribe to the Inbound stream of pod " + key +
                       ": only the pod's own proxy (" + *mesh.podIdentity + ") may"};
  }
  return std::nullopt;
}

}  // namespace weft::op::discovery
