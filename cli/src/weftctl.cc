// weftctl: subcommand dispatch.
#include "cli/src/weftctl.h"

#include <iostream>

#include "cli/src/inject.h"
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
  auto* check = app.add_subcommand("check", "verify a Weft installation");
  StatFlags statFlags;
  auto* stat = app.add_subcommand("stat", "golden metrics per workload, live");
  addStatFlags(*stat, statFlags);
  std::string pod;
  auto* proxyConfig = app.add_subcommand("proxy-config", "show a proxy's configuration");
  proxyConfig->add_option("pod", pod, "NAMESPACE/POD")->required();

  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (inject->parsed()) {
    return runInject(injectFlags, std::cin, std::cout, std::cerr);
  }
  if (stat->parsed()) {
    return runStat(statFlags);
  }
  for (auto* cmd : {check, proxyConfig}) {
    if (cmd->parsed()) {
      return flags::fail(app, std::string(cmd->get_name()) + ": not implemented yet");
    }
  }
  return flags::fail(app,
                     "a command is required: inject, check, stat or proxy-config (see --help)") +
         1;
}

}  // namespace weft::cli
