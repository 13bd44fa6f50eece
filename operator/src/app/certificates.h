// Certificates: a thread that keeps the mesh issuer, the trust bundle and
// the injector's serving certificate current (operator/src/identity/keeper.h),
// hands the issuer to the Certifier and the bundle to the reconciler, and
// exposes every certificate's expiry as a metric.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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

  CertificatesOptions options_;
  identity::Certifier& certifier_;
  metrics::GaugeFamily& expiry_;
  identity::CaFiles memory_;  // dir mode without --issuer-dir
  kube::StopSignal stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace weft::op::app
