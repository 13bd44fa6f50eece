// Keeps the operator's certificates where Kubernetes (or the local folder)
// holds them: the mesh issuer (Secret weft-identity-issuer, or --issuer-dir),
// the published trust bundle (ConfigMap weft-trust-bundle), and the
// injector's serving certificate with its caBundle in the webhook
// configuration. Each sync reads the current state and writes only what
// differs; only the leader writes. Blocking: run on a thread of its own.
// Also the discovery server's certificate, which is never stored.
// Implemented in keeper.cc (issuer), injector_certs.cc and discovery_cert.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "operator/src/identity/ca.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::op::identity {

inline constexpr const char* kIssuerSecret = "weft-identity-issuer";
inline constexpr const char* kTrustBundleConfigMap = "weft-trust-bundle";
inline constexpr const char* kInjectorTlsSecret = "weft-injector-tls";
inline constexpr const char* kInjectorCaSecret = "weft-injector-ca";
inline constexpr const char* kInjectorWebhook = "weft-injector";
inline constexpr const char* kInjectorService = "weft-injector";
inline constexpr const char* kControlService = "weft-control";

// The issuer Secret in kube mode: created by the leader when absent (a user
// who brings their own creates it first and it is used as is), its issuer
// re-issued under the same root when due and root.key is there; the trust
// bundle published in the ConfigMap. A follower only reads.
Result<IssuerPtr> syncKubeIssuer(kube::KubeApi& api, const std::string& ns, bool leader,
                                 SystemTime now);

// --issuer-dir: tls.crt, tls.key, ca.crt (and root.key when made here).
Result<IssuerPtr> syncDirIssuer(const std::string& dir, SystemTime now);

// The injector's Secret, its CA's Secret and the webhook's caBundle (leader
// only); returns the serving certificate's notAfter.
Result<SystemTime> syncInjectorCerts(kube::KubeApi& api, const std::string& ns, SystemTime now);

// The DNS names of the discovery server's certificate: weft-control.<ns>.svc,
// weft-control.<ns>.svc.cluster.local, then `extra` (checked: lower-case
// RFC 1123 names, no wildcards), without duplicates.
Result<std::vector<std::string>> discoveryNames(const std::string& ns,
                                                const std::vector<std::string>& extra);

// The discovery server's certificate, issued by the mesh issuer so that a
// proxy holding only the trust bundle can verify the control plane. Each
// replica makes its own and keeps it in memory: no Secret, no write. A new
// one (`certPem` the leaf then the issuer) when `currentPem` is empty or does
// not parse, is past 2/3 of its life, or was not signed by `issuer` (the
// issuer changed); nullopt while the current one stays good.
Result<std::optional<KeyPair>> syncDiscoveryCert(const Issuer& issuer,
                                                 const std::vector<std::string>& dnsNames,
                                                 const std::string& currentPem, SystemTime now,
                                                 std::chrono::seconds lifetime);

}  // namespace weft::op::identity
