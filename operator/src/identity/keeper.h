// Keeps the operator's certificates where Kubernetes (or the local folder)
// holds them: the mesh issuer (Secret weft-identity-issuer, or --issuer-dir),
// the published trust bundle (ConfigMap weft-trust-bundle), and the
// injector's serving certificate with its caBundle in the webhook
// configuration. Each sync reads the current state and writes only what
// differs; only the leader writes. Blocking: run on a thread of its own.
// Implemented in keeper.cc (issuer) and injector_certs.cc.
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

}  // namespace weft::op::identity
