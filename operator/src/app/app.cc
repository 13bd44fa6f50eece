// Flag parsing and wiring for weft-operator.
#include "operator/src/app/app.h"

#include "common/flags/flags.h"
#include "common/log/log.h"

namespace weft::op {

int run(int argc, const char* const* argv) {
  CLI::App app{"Weft control plane: reconciles resources into proxy configuration",
               "weft-operator"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);
  std::string source = "kube";
  std::string kubeconfig;
  std::string discoveryListen = "0.0.0.0:8443";
  std::string adminListen = "0.0.0.0:9990";
  app.add_option("--source", source, "kube, or dir:PATH for local mode")->capture_default_str();
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  app.add_option("--discovery-listen", discoveryListen, "discovery API listener")
      ->capture_default_str();
  app.add_option("--admin-listen", adminListen, "/healthz, /readyz, /metrics listener")
      ->capture_default_str();
  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (source != "kube" && source.rfind("dir:", 0) != 0) {
    return flags::fail(app, "--source: expected 'kube' or 'dir:PATH', got '" + source + "'");
  }
  log::get("operator")->info("weft-operator starting: source {}", source);
  return flags::fail(app, "the control plane is not implemented yet");
}

}  // namespace weft::op
