// Flag parsing and wiring for weft-injector.
#include "webhook/src/app/app.h"

#include "common/flags/flags.h"
#include "common/log/log.h"

namespace weft::webhook {

int run(int argc, const char* const* argv) {
  CLI::App app{"Weft injector: mutating admission webhook that adds the proxy to pods",
               "weft-injector"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);
  std::string listen = "0.0.0.0:9443";
  std::string tlsCert;
  std::string tlsKey;
  std::string kubeconfig;
  app.add_option("--listen", listen, "HTTPS listener")->capture_default_str();
  app.add_option("--tls-cert", tlsCert, "serving certificate (PEM)");
  app.add_option("--tls-key", tlsKey, "serving key (PEM)");
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  log::get("injector")->info("weft-injector starting on {}", listen);
  return flags::fail(app, "the injector is not implemented yet");
}

}  // namespace weft::webhook
