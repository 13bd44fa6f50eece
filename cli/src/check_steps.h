// The groups of checks behind `weftctl check`, each appending to the report.
// Internal to cli/: check.cc runs them in order.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/src/check_report.h"
#include "common/kube/http_kube_api.h"
#include "common/tls/pki.h"

namespace weft::cli {

struct CheckContext {
  kube::HttpKubeApi& api;
  std::string ns;
  tls::SystemTime now;
  std::chrono::seconds expiryWarning;
  std::chrono::milliseconds timeout;
  std::string webhookAddress;  // empty: the Service's cluster IP
  CheckReport& report;
};

// Where the RBAC rules the checks need are listed, for "forbidden" fixes.
inline constexpr const char* kRbacDoc = "docs/weftctl.md#rbac";

// The CRDs this build expects (crds/*.yaml), at the versions its clients use.
std::vector<kube::Resource> weftCrds();

// CRDs at this build's versions, the operator and injector Deployments, the
// operator's leader Lease.
void checkCrds(CheckContext& ctx);
void checkDeployments(CheckContext& ctx);
// The MutatingWebhookConfiguration, its caBundle, the injector reached over
// TLS and verified with that caBundle, the webhook certificates' expiry.
void checkWebhook(CheckContext& ctx);
// The trust bundle roots and the mesh issuer (ConfigMap weft-trust-bundle).
void checkMeshCertificates(CheckContext& ctx);

// "<what> failed: <error>"'s fix for an API error: RBAC for 403, otherwise
// `otherwise`.
std::string fixFor(const Error& error, const std::string& otherwise);

}  // namespace weft::cli
