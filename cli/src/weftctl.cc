// weftctl: subcommand dispatch.
#include "cli/src/weftctl.h"

#include <iostream>

#include "cli/src/check.h"
#include "cli/src/inject.h"
#include "cli/src/proxy_config.h"
#include "cli/src/stat.h"
#include "common/flags/flags.h"

namespace weft::cli {

int run(int argc, const char* const* argv) {
  CLI::App app{"weftctl: operate a Weft mesh", "weftctl"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);
  std::string kubeconfig;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file");

  InjectFlags injectFlags;
  auto* inject = app.add_subcommand("inject", "add the proxy to workloads in YAML or JSON");
  inject->add_option("-f,--filename", injectFlags.file, "file to read, or - for standard input")
      ->required();
  inject->add_option("--kube-version", injectFlags.kubeVersion,
                     "target cluster version; before v1.29 the proxy becomes the first "
                     "container instead of a native sidecar");
  inject->add_option("--proxy-image", injectFlags.proxyImage, "image of weft-proxy and weft-init");
  CheckFlags checkFlags;
  auto* check = app.add_subcommand("check", "verify a Weft installation");
  check->fallthrough();  // --kubeconfig after `check` too
  check->add_option("-n,--namespace", checkFlags.ns, "where Weft is installed")
      ->capture_default_str();
  check
      ->add_option("--expiry-warning", checkFlags.expiryWarning,
                   "warn when a certificate expires within this (7d, 36h)")
      ->capture_default_str();
  check->add_option("-o,--output", checkFlags.output, "text or json")->capture_default_str();
  check->add_option("--webhook-address", checkFlags.webhookAddress,
                    "HOST:PORT to reach the injector at (e.g. a kubectl port-forward) instead "
                    "of its Service's cluster IP");
  check
      ->add_option("--timeout", checkFlags.timeout,
                   "per API request and per connection to the injector")
      ->capture_default_str();
  StatFlags statFlags;
  auto* stat = app.add_subcommand("stat", "golden metrics per workload, live");
  addStatFlags(*stat, statFlags);
  ProxyConfigFlags proxyConfigFlags;
  auto* proxyConfig = app.add_subcommand("proxy-config", "show a proxy's configuration");
  proxyConfig->fallthrough();  // --kubeconfig after `proxy-config` too
  proxyConfig
      ->add_option("target", proxyConfigFlags.target,
                   "NAMESPACE/POD (through the API server) or HOST:PORT of its admin port")
      ->required();
  proxyConfig->add_option("--timeout", proxyConfigFlags.timeout, "for the answer")
      ->capture_default_str();

  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (inject->parsed()) {
    return runInject(injectFlags, std::cin, std::cout, std::cerr);
  }
  if (check->parsed()) {
    checkFlags.kubeconfig = kubeconfig;
    return runCheck(checkFlags, std::cout, std::cerr);
  }
  if (stat->parsed()) {
    return runStat(statFlags);
  }
  if (proxyConfig->parsed()) {
    proxyConfigFlags.kubeconfig = kubeconfig;
    return runProxyConfig(proxyConfigFlags, std::cout, std::cerr);
  }
  return flags::fail(app,
                     "a command is required: inject, check, stat or proxy-config (see --help)") +
         1;
}

}  // namespace weft::cli
