// Certificates: a thread that keeps the mesh issuer, the trust bundle, the
// injector's serving certificate and the discovery server's certificate
// current (operator/src/identity/keeper.h), hands the issuer to the
// Certifier, the bundle to the reconciler and the discovery certificate to
// the server, and exposes every certificate's expiry as a metric.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/kube/stop_signal.h"
#include "common/metrics/metrics.h"
#include "operator/src/identity/ca.h"
#include "operator/src/identity/certifier.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::op::app {

struct CertificatesOptions {
  kube::KubeApi* api = nullptr;  // kube mode; null in dir mode
  std::string ns;                // the operator's namespace
  std::string issuerDir;         // dir mode: --issuer-dir ("" keeps the CA in memory)
  std::function<bool()> leader;  // any thread
  // Called on this object's thread with the trust bundle whenever it was loaded.
  std::function<void(std::vector<std::string>)> onTrustBundle;
  // The discovery server's certificate from the mesh issuer (no --tls-cert):
  // its DNS names (empty: not kept here) and lifetime. Called on this
  // object's thread with each new one (leaf and issuer, key).
  std::vector<std::string> discoveryNames;
  std::chrono::seconds discoveryLifetime = identity::kDiscoveryLifetime;
  std::function<void(identity::KeyPair)> onDiscoveryCertificate;
  std::chrono::seconds interval{30};
};

class Certificates {
 public:
  // `certifier` and `registry` must outlive this object.
  Certificates(CertificatesOptions options, identity::Certifier& certifier,
               metrics::Registry& registry);
  ~Certificates();

  void start();
  // Wakes the thread now (leadership gained).
  void poke();
  void stop();

 private:
  void run();
  bool syncOnce();
  bool syncDiscovery(identity::SystemTime now);

  CertificatesOptions options_;
  identity::Certifier& certifier_;
  metrics::GaugeFamily& expiry_;
  identity::CaFiles memory_;  // dir mode without --issuer-dir
  std::string discoveryPem_;  // the discovery certificate in use
  std::optional<identity::SystemTime> discoveryRenewal_;
  kube::StopSignal stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace weft::op::app
