// Flag parsing and wiring for weft-injector.
#include "webhook/src/app/app.h"

#include <csignal>
#include <cstdlib>
#include <memory>

#include "common/api/duration.h"
#include "common/flags/flags.h"
#include "common/http/server.h"
#include "common/kube/config.h"
#include "common/kube/http_kube_api.h"
#include "common/log/log.h"
#include "webhook/src/admission/kube_namespace_labels.h"
#include "webhook/src/admission/kube_trust_bundle.h"
#include "webhook/src/admission/review.h"
#include "webhook/src/app/server_version.h"
#include "webhook/src/inject/inject.h"
#include "webhook/src/server/metrics.h"
#include "webhook/src/server/service.h"

namespace weft::webhook {

int run(int argc, const char* const* argv) {
  CLI::App app{"Weft injector: mutating admission webhook that adds the proxy to pods",
               "weft-injector"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);
  inject::Options options = inject::defaultOptions();
  std::string listen = "0.0.0.0:9443";
  std::string tlsCert;
  std::string tlsKey;
  std::string kubeconfig;
  std::string kubeVersion;
  std::string kubeVersionWait = "30s";
  std::string trustBundleRefresh = "10s";
  std::vector<std::string> injectNamespaces;
  int threads = 2;
  app.add_option("--listen", listen, "HTTPS listener")->capture_default_str();
  app.add_option("--tls-cert", tlsCert,
                 "serving certificate chain (PEM), reloaded on change (required)");
  app.add_option("--tls-key", tlsKey, "serving key (PEM), reloaded on change (required)");
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  app.add_option("--kube-version", kubeVersion,
                 "Kubernetes server version (e.g. v1.30.2), overriding GET /version; 1.29+ gets "
                 "native sidecars. Without either the proxy is injected as the first container");
  app.add_option("--kube-version-wait", kubeVersionWait,
                 "how long to retry GET /version at startup before falling back to the "
                 "first-container layout")
      ->capture_default_str();
  app.add_option("--inject-namespace", injectNamespaces,
                 "without a Kubernetes API: treat this namespace as labelled "
                 "weft.io/inject=enabled (repeatable)");
  app.add_option("--proxy-image", options.proxyImage, "image of weft-proxy and weft-init")
      ->capture_default_str();
  app.add_option("--control-plane", options.controlPlane, "control plane HOST:PORT for proxies")
      ->capture_default_str();
  app.add_option("--weft-namespace", options.weftNamespace, "Weft's own namespace (never injected)")
      ->capture_default_str();
  app.add_option("--trust-bundle-refresh", trustBundleRefresh,
                 "how often the ConfigMap weft-trust-bundle (in --weft-namespace) is read for "
                 "the proxies' WEFT_TRUST_ANCHORS")
      ->capture_default_str();
  app.add_option("--threads", threads, "server threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (tlsCert.empty() || tlsKey.empty()) {
    return flags::fail(app, "--tls-cert and --tls-key are required (see --help)") + 1;
  }
  auto logger = log::get("injector");

  // Block the stop signals before any thread starts (Kubernetes client,
  // reflector, server), so that only sigwait below sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  auto versionWait = api::parseDuration(kubeVersionWait);
  if (!versionWait) {
    return flags::fail(app, "--kube-version-wait: " + versionWait.error().message);
  }
  auto bundleRefresh = api::parseDuration(trustBundleRefresh);
  if (!bundleRefresh || bundleRefresh->count() == 0) {
    return flags::fail(
        app, "--trust-bundle-refresh: " + (bundleRefresh ? std::string("must be more than 0")
                                                         : bundleRefresh.error().message));
  }
  if (!kubeVersion.empty()) {
    if (auto native = inject::supportsNativeSidecars(kubeVersion); !native) {
      return flags::fail(app, "--kube-version: " + native.error().message);
    }
  }

  // Namespace labels: from the API server when there is one (a kubeconfig, or
  // running in a pod); otherwise only the --inject-namespace list.
  std::unique_ptr<kube::HttpKubeApi> kubeApi;
  std::unique_ptr<admission::NamespaceLabels> labels;
  std::unique_ptr<admission::KubeTrustBundle> trustBundle;
  if (!kubeconfig.empty() || std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) {
    auto config = kubeconfig.empty() ? kube::loadInCluster() : kube::loadKubeconfig(kubeconfig);
    if (!config) {
      return flags::fail(app, "Kubernetes client: " + config.error().message);
    }
    auto api = kube::HttpKubeApi::create(*config);
    if (!api) {
      return flags::fail(app, "Kubernetes client: " + api.error().message);
    }
    kubeApi = std::move(*api);
    if (kubeVersion.empty()) {
      // Before serving: a pod admitted meanwhile would get the wrong layout.
      auto fetched = fetchServerVersion(*kubeApi, *versionWait);
      if (fetched) {
        kubeVersion = *fetched;
        logger->info("Kubernetes server version {} (GET /version)", kubeVersion);
      } else {
        logger->warn(
            "could not learn the Kubernetes server version, injecting the proxy as the first "
            "container (pre-1.29 mode) until restarted; set --kube-version to choose: {}",
            fetched.error().message);
      }
    }
    labels = std::make_unique<admission::KubeNamespaceLabels>(*kubeApi);
    // Not ready, and refusing pods to mesh, until the operator has published
    // the bundle: a proxy injected without it could never start.
    trustBundle = std::make_unique<admission::KubeTrustBundle>(*kubeApi, options.weftNamespace,
                                                               *bundleRefresh);
    if (!injectNamespaces.empty()) {
      logger->warn("--inject-namespace is ignored: namespace labels come from the API server");
    }
  } else {
    std::map<std::string, std::map<std::string, std::string>> table;
    for (const auto& ns : injectNamespaces) {
      table[ns][std::string(inject::kInjectLabel)] = "enabled";
    }
    labels = std::make_unique<admission::StaticNamespaceLabels>(std::move(table));
    logger->info(
        "no Kubernetes API: namespace opt-in only for --inject-namespace ({} given), proxies "
        "get no WEFT_TRUST_ANCHORS",
        injectNamespaces.size());
  }
  if (kubeVersion.empty()) {
    options.nativeSidecar = false;
    if (!kubeApi) {
      logger->warn(
          "no --kube-version and no Kubernetes API: injecting the proxy as the first container "
          "(pre-1.29 mode)");
    }
  } else {
    auto native = inject::supportsNativeSidecars(kubeVersion);
    if (!native) {
      // Only a server's answer gets here (the flag was checked above).
      logger->warn(
          "server version '{}' not understood, injecting the proxy as the first "
          "container: {}",
          kubeVersion, native.error().message);
    }
    options.nativeSidecar = native.valueOr(false);
  }
  admission::Mutator mutator(options, *labels, trustBundle.get());
  server::AdmissionMetrics metrics;
  server::InjectorService service(mutator, metrics, [&trustBundle]() -> std::string {
    if (trustBundle && !trustBundle->current()) {
      return "waiting for the mesh trust bundle (" + trustBundle->source() + ")";
    }
    return "";
  });

  http::ServerOptions serverOptions;
  serverOptions.listen = listen;
  serverOptions.certFile = tlsCert;
  serverOptions.keyFile = tlsKey;
  serverOptions.threads = threads;
  serverOptions.logger = "injector.http";
  auto server = http::Server::start(
      serverOptions, [&service](const http::Request& r) { return service.handle(r); });
  if (!server) {
    return flags::fail(app, server.error().message);
  }
  logger->info("weft-injector {} serving on port {} (native sidecars: {})", options.version,
               (*server)->port(), options.nativeSidecar ? "yes" : "no");

  int signal = 0;
  sigwait(&stopSignals, &signal);
  logger->info("signal {}: draining", signal);
  (*server)->stop(std::chrono::seconds(10));
  return 0;
}

}  // namespace weft::webhook
