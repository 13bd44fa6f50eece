// Flag parsing and wiring for weft-proxy and `weft-proxy init`.
#include "proxy/src/app/app.h"

#include <thread>

#include "common/flags/flags.h"
#include "common/log/log.h"

namespace weft::proxy {

int run(int argc, const char* const* argv) {
  CLI::App app{"Weft sidecar proxy: transparent outbound and inbound proxy", "weft-proxy"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);

  std::string configFile;
  std::string controlPlane;
  std::string outboundListen = "0.0.0.0:15101";
  std::string inboundListen = "0.0.0.0:15106";
  std::string adminListen = "127.0.0.1:15100";
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  auto* config =
      app.add_option("--config", configFile, "static configuration documents (JSON or YAML)")
          ->check(CLI::ExistingFile);
  app.add_option("--control-plane", controlPlane, "operator discovery address HOST:PORT")
      ->excludes(config);
  app.add_option("--outbound-listen", outboundListen, "outbound listener")->capture_default_str();
  app.add_option("--inbound-listen", inboundListen, "inbound listener")->capture_default_str();
  app.add_option("--admin-listen", adminListen, "admin listener")->capture_default_str();
  app.add_option("--workers", workers, "worker threads")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();

  auto* init = app.add_subcommand("init", "install the iptables redirect for this pod");
  unsigned proxyUid = 2102;
  unsigned inboundPort = 15106;
  unsigned outboundPort = 15101;
  std::string skipInbound;
  std::string skipOutbound;
  std::string skipCidrs;
  bool dryRun = false;
  bool cleanup = false;
  init->add_option("--proxy-uid", proxyUid, "UID whose traffic bypasses the redirect")
      ->capture_default_str();
  init->add_option("--inbound-port", inboundPort, "inbound redirect port")->capture_default_str();
  init->add_option("--outbound-port", outboundPort, "outbound redirect port")
      ->capture_default_str();
  init->add_option("--skip-inbound-ports", skipInbound, "comma-separated ports not redirected");
  init->add_option("--skip-outbound-ports", skipOutbound, "comma-separated ports not redirected");
  init->add_option("--skip-outbound-cidrs", skipCidrs, "comma-separated CIDRs not redirected");
  init->add_flag("--dry-run", dryRun, "print the rules instead of installing them");
  init->add_flag("--cleanup", cleanup, "remove the rules");

  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  auto logger = log::get("proxy");
  if (init->parsed()) {
    return flags::fail(app, "init: not implemented yet");
  }
  logger->info("weft-proxy starting: outbound {}, inbound {}, admin {}, {} workers", outboundListen,
               inboundListen, adminListen, workers);
  return flags::fail(app, "the data plane is not implemented yet");
}

}  // namespace weft::proxy
