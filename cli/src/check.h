// `weftctl check`: verifies a Weft installation through the Kubernetes API
// (CRDs, operator and injector, webhook and its caBundle, certificates) and
// prints each check with a fix when it fails. Only reads; never Secrets.
#pragma once

#include <iosfwd>
#include <string>

namespace weft::cli {

struct CheckFlags {
  std::string kubeconfig;  // empty: $KUBECONFIG, ~/.kube/config, in-cluster
  std::string ns = "weft-system";
  std::string expiryWarning = "7d";  // warn when a certificate expires within this
  std::string output = "text";       // text | json
  std::string webhookAddress;        // HOST:PORT to reach the injector at instead of its Service
  std::string timeout = "10s";       // per API request and per webhook connection
};

// Runs every check, prints the report to `out` (problems with the flags to
// `err`). Returns 0 when nothing failed (warnings do not fail), 1 when a
// check failed, 2 for bad flags.
int runCheck(const CheckFlags& flags, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
