// The trust bundle ConfigMap, polled.
#include "webhook/src/admission/kube_trust_bundle.h"

#include "common/json/json.h"
#include "common/kube/kube_api.h"
#include "common/kube/kube_error.h"
#include "common/kube/resource.h"
#include "common/log/log.h"
#include "common/tls/pki.h"

namespace weft::webhook::admission {

KubeTrustBundle::KubeTrustBundle(kube::KubeApi& api, std::string ns,
                                 std::chrono::milliseconds refresh)
    : api_(api), ns_(std::move(ns)), refresh_(refresh) {
  thread_ = std::thread([this] { run(); });
}

KubeTrustBundle::~KubeTrustBundle() {
  stop_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::optional<std::string> KubeTrustBundle::current() const {
  std::lock_guard lock(mu_);
  return pem_;
}

std::string KubeTrustBundle::source() const {
  return "ConfigMap " + ns_ + "/" + kTrustBundleConfigMap;
}

void KubeTrustBundle::run() {
  while (!stop_.stopped()) {
    refreshOnce();
    stop_.waitFor(refresh_);
  }
}

void KubeTrustBundle::refreshOnce() {
  auto logger = log::get("injector");
  std::string problem;
  auto cm = api_.get(kube::resources::configMaps(), ns_, kTrustBundleConfigMap);
  Result<std::string> pem = makeError(ErrorCode::kNotFound, "");
  if (!cm) {
    problem =
        kube::isNotFound(cm.error()) ? "not found (the operator creates it)" : cm.error().message;
  } else {
    auto text = json::getStringOr(*cm, std::string("/data/") + kTrustBundleKey, "");
    if (!text || text->empty()) {
      problem = std::string("no key ") + kTrustBundleKey;
    } else {
      pem = tls::certificatesOnly(*text);
      if (!pem) {
        problem = std::string(kTrustBundleKey) + ": " + pem.error().message;
      }
    }
  }
  std::lock_guard lock(mu_);
  if (!problem.empty()) {
    if (problem != lastProblem_) {
      logger->warn(
          "{}: {}; {}", source(), problem,
          pem_ ? "keeping the bundle loaded before" : "pods to mesh are refused until it is there");
      lastProblem_ = problem;
    }
    return;
  }
  lastProblem_.clear();
  if (pem_ != *pem) {
    auto roots = tls::parseCerts(*pem);
    logger->info("mesh trust bundle {} from {}: {} root(s)", pem_ ? "changed" : "loaded", source(),
                 roots ? roots->size() : 0);
    pem_ = std::move(*pem);
  }
}

}  // namespace weft::webhook::admission
