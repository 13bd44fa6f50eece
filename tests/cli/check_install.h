// A Weft installation as `weftctl check` sees it, for its tests: the fake
// kube-apiserver (HTTPS, token) holding the CRDs from crds/, the operator and
// injector Deployments, the leader Lease, the webhook configuration, the
// injector's Service and Endpoints and the trust bundle ConfigMap, with the
// real weft-injector binary serving TLS on loopback. Each part can be made
// wrong before (or after) install().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/json/json.h"
#include "common/kube/http_kube_api.h"
#include "common/tls/pki.h"
#include "tests/common/http/test_tls.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/process.h"

namespace weft::testing {

using tls::SystemTime;

// A certificate and its key, PEM and parsed.
struct TestIdentity {
  tls::Cert cert;
  tls::PKey key;
  std::string certPem;
  std::string keyPem;
};

struct Validity {
  SystemTime notBefore;
  SystemTime notAfter;
};
// From an hour ago to `left` from now (negative: already expired).
Validity validFor(std::chrono::seconds left);

TestIdentity makeRootCa(const std::string& commonName, Validity validity);
TestIdentity issueCa(const TestIdentity& parent, const std::string& commonName, Validity validity);
TestIdentity issueServing(const TestIdentity& ca, const std::vector<std::string>& dnsNames,
                          Validity validity);

class CheckInstall {
 public:
  static constexpr const char* kNamespace = "weft-system";
  static constexpr const char* kServiceHost = "weft-injector.weft-system.svc";

  CheckInstall();
  ~CheckInstall();

  // What install() uses; replace before calling it to break things.
  TestIdentity webhookCa;  // in the caBundle
  TestIdentity serving;    // what weft-injector presents, signed by webhookCa
  TestIdentity meshRoot;   // ca-bundle.crt
  TestIdentity issuer;     // issuer.crt, signed by meshRoot
  std::string clusterIp = "127.0.0.1";

  // Everything healthy, from the members above. Returns false (with a gtest
  // failure) when a part could not be set up.
  bool install();

  // Parts, for tests that change one after install().
  bool startInjector(const TestIdentity& cert);
  void stopInjector();
  std::uint16_t injectorPort() const { return injectorPort_; }
  bool putCrds();
  // The webhook calls the Service on `port` (0: the injector's own port).
  bool putWebhook(const std::string& caBundlePem, std::uint16_t port = 0);
  bool putDeployment(const std::string& name, int replicas, int ready);
  bool putLease(const std::string& holder, SystemTime renewed);
  bool putTrustBundle(const std::string& rootsPem, const std::string& issuerPem);
  bool putService();
  // Applies `edit` to the stored CRD `name` (spec and status both written).
  bool editCrd(const std::string& name, const std::function<void(json::Json&)>& edit);

  kube::HttpKubeApi& api() { return *api_; }
  FakeApiServer& server() { return *server_; }
  const std::string& kubeconfig() const { return kubeconfig_; }

  // Runs `weftctl check --kubeconfig ... args`.
  RunResult check(const std::vector<std::string>& args = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  bool put(const kube::Resource& resource, const std::string& ns, json::Json object);

  TempDir dir_;
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<kube::HttpKubeApi> api_;
  std::string kubeconfig_;
  std::unique_ptr<Child> injector_;
  std::uint16_t injectorPort_ = 0;
};

}  // namespace weft::testing
