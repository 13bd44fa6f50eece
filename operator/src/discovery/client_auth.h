// Who may subscribe to discovery (docs/api.md, "Who may subscribe"): the
// client certificate a connection presented, checked against the mesh trust
// bundle, and the decision for one stream. Outbound streams need any valid
// workload certificate of the trust domain; the Inbound stream of a pod only
// the certificate of that pod's service account. Any thread; no state.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/tls/pki.h"
#include "operator/src/discovery/table.h"

struct ssl_st;

namespace weft::op::discovery {

// --discovery-client-auth: kRequire refuses a subscriber without a workload
// certificate; kOptional lets it in (local runs, proxies without identity).
// A certificate that is presented is checked in both modes.
enum class ClientAuth { kRequire, kOptional };
Result<ClientAuth> parseClientAuth(std::string_view text);

// The mesh roots, parsed once per bundle.
class TrustAnchors {
 public:
  // Refuses (and keeps the previous roots) when a PEM does not parse.
  Result<void> set(const std::vector<std::string>& pems);
  bool loaded() const { return !roots_.empty(); }
  std::span<const tls::Cert> roots() const { return roots_; }

 private:
  std::vector<std::string> pems_;
  std::vector<tls::Cert> roots_;
};

// What a client presented: nothing, a certificate that verified, or one that
// did not.
struct Presented {
  enum class Kind { kNone, kValid, kInvalid };
  Kind kind = Kind::kNone;
  std::string spiffeId;        // kValid
  tls::SystemTime notAfter{};  // kValid: the stream ends then
  std::string why;             // kInvalid
};

// Verifies leaf -> intermediates -> one of `roots` at `now` and reads the
// SPIFFE ID; `leaf` null means nothing was presented.
Presented checkChain(const tls::Cert* leaf, std::span<const tls::Cert> intermediates,
                     std::span<const tls::Cert> roots, tls::SystemTime now);
// The same for what the client sent on a server connection after its handshake.
Presented checkPeer(ssl_st* ssl, std::span<const tls::Cert> roots, tls::SystemTime now);

struct Refusal {
  int status = 401;    // 401 (who are you), 403 (not yours), 503 (try again)
  std::string reason;  // weft_operator_discovery_refused_total{reason}
  std::string message;
};

// What the decision needs to know about the mesh, read from the cache.
struct MeshFacts {
  bool anchorsLoaded = false;
  std::string trustDomain;
  // The SPIFFE ID of the pod the Inbound stream is for (its namespace and
  // service account); nullopt when the pod is not known.
  std::optional<std::string> podIdentity;
};

// nullopt: the stream may open.
std::optional<Refusal> authorize(ClientAuth mode, const Presented& presented, Stream stream,
                                 const std::string& key, const MeshFacts& mesh);

// The Refusal reasons, for metrics that start every series at 0.
inline constexpr const char* kRefusalReasons[] = {"no_certificate", "invalid_certificate",
                                                  "forbidden", "unavailable"};

}  // namespace weft::op::discovery
