// Flag parsing and wiring for weft-proxy and its subcommands (init, wait, drain).
#include "proxy/src/app/app.h"

#include <charconv>
#include <cstdlib>
#include <thread>

#include "common/api/duration.h"
#include "common/file.h"
#include "common/flags/flags.h"
#include "common/log/log.h"
#include "common/tls/pki.h"
#include "proxy/src/app/server.h"
#include "proxy/src/init/init.h"
#include "proxy/src/lifecycle/command.h"
#include "proxy/src/net/address.h"
#include "proxy/src/tcp/detect.h"

namespace weft::proxy {
namespace {

Result<std::vector<std::uint16_t>> parsePorts(const std::string& text) {
  std::vector<std::uint16_t> ports;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    unsigned v = 0;
    auto [end, err] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (err != std::errc() || end != item.data() + item.size() || v == 0 || v > 65535) {
      return makeError(ErrorCode::kInvalidArgument, "bad port '" + std::string(item) + "'");
    }
    ports.push_back(static_cast<std::uint16_t>(v));
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return ports;
}

// What verifies the control plane: --control-plane-ca as given, else the
// mesh's trust anchors (--trust-anchors, else env WEFT_TRUST_ANCHORS).
Result<std::shared_ptr<discovery::ControlPlaneTrust>> controlPlaneTrust(
    const std::string& caFile, const std::string& anchorsFile) {
  using Trust = discovery::ControlPlaneTrust;
  if (!caFile.empty()) {
    auto ca = readFile(caFile, 1u << 20);
    if (!ca) {
      return ca.error().context("--control-plane-ca");
    }
    auto t = Trust::create(*ca, Trust::Mode::kFixed);
    return t ? t
             : Result<std::shared_ptr<Trust>>(t.error().context("--control-plane-ca " + caFile));
  }
  if (!anchorsFile.empty()) {
    auto pem = readFile(anchorsFile, 1u << 20);
    if (!pem) {
      return pem.error().context("--trust-anchors");
    }
    auto t = Trust::create(*pem, Trust::Mode::kFollowMesh);
    return t ? t
             : Result<std::shared_ptr<Trust>>(t.error().context("--trust-anchors " + anchorsFile));
  }
  const char* env = std::getenv("WEFT_TRUST_ANCHORS");
  if (env == nullptr || *env == '\0') {
    return makeError(ErrorCode::kInvalidArgument,
                     "--control-plane needs the roots of the control plane's certificate: env "
                     "WEFT_TRUST_ANCHORS (as injected), --trust-anchors FILE or "
                     "--control-plane-ca FILE");
  }
  auto t = Trust::create(env, Trust::Mode::kFollowMesh);
  return t ? t : Result<std::shared_ptr<Trust>>(t.error().context("WEFT_TRUST_ANCHORS"));
}

}  // namespace

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
  std::string detectTimeout = "1s";
  std::string headerTimeout = "10s";
  std::string clientIdle = "60s";
  std::string drainGrace = "10s";
  std::string opaquePorts;
  auto* config =
      app.add_option("--config", configFile, "static configuration documents (JSON or YAML)")
          ->check(CLI::ExistingFile);
  std::string controlPlaneCa;
  std::string trustAnchorsFile;
  auto* cp = app.add_option("--control-plane", controlPlane, "operator discovery address HOST:PORT")
                 ->excludes(config);
  auto* cpCa =
      app.add_option("--control-plane-ca", controlPlaneCa,
                     "PEM file with the roots that sign the control plane's certificate (a "
                     "certificate from outside the mesh; default: the trust anchors)")
          ->needs(cp)
          ->check(CLI::ExistingFile);
  app.add_option("--trust-anchors", trustAnchorsFile,
                 "PEM file with the mesh's trust anchors (default: env WEFT_TRUST_ANCHORS, as "
                 "injected): they verify the control plane until it sends a newer trust bundle")
      ->needs(cp)
      ->excludes(cpCa)
      ->check(CLI::ExistingFile);
  std::string tokenFile;
  if (const char* env = std::getenv("WEFT_IDENTITY_TOKEN_FILE")) {
    tokenFile = env;
  }
  std::string trustDomain = "cluster.local";
  unsigned inboundAppPort = 0;
  app.add_option("--identity-token-file", tokenFile,
                 "service-account token (audience weft.io/identity) for the workload "
                 "certificate; enables mTLS (env WEFT_IDENTITY_TOKEN_FILE); the identity is "
                 "POD_NAMESPACE and SERVICE_ACCOUNT from the environment")
      ->needs(cp);
  app.add_option("--trust-domain", trustDomain, "SPIFFE trust domain")->capture_default_str();
  app.add_option("--inbound-app-port", inboundAppPort,
                 "deliver inbound connections that were not redirected to 127.0.0.1:PORT "
                 "(running without iptables)")
      ->check(CLI::Range(1u, 65535u));
  app.add_option("--outbound-listen", outboundListen, "outbound listener")->capture_default_str();
  app.add_option("--inbound-listen", inboundListen, "inbound listener")->capture_default_str();
  app.add_option("--admin-listen", adminListen, "admin listener")->capture_default_str();
  app.add_option("--workers", workers, "worker threads")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("--detect-timeout", detectTimeout,
                 "how long to wait for a client's first bytes before treating it as TCP")
      ->capture_default_str();
  app.add_option("--header-timeout", headerTimeout, "time a client has to send request headers")
      ->capture_default_str();
  app.add_option("--client-idle-timeout", clientIdle, "idle keep-alive client connections close")
      ->capture_default_str();
  app.add_option("--drain-grace", drainGrace, "on SIGTERM, how long in-flight requests may finish")
      ->capture_default_str();
  app.add_option("--opaque-ports", opaquePorts,
                 "comma-separated ports forwarded as TCP without detection "
                 "(default 25,587,3306,4444,5432,6379,9300,11211)");

  auto* init = app.add_subcommand("init", "install the iptables redirect for this pod");
  init::InitOptions initOptions;
  init->add_option("--proxy-uid", initOptions.proxyUid, "UID whose traffic bypasses the redirect")
      ->capture_default_str();
  init->add_option("--inbound-port", initOptions.inboundPort, "inbound redirect port")
      ->capture_default_str();
  init->add_option("--outbound-port", initOptions.outboundPort, "outbound redirect port")
      ->capture_default_str();
  init->add_option("--skip-inbound-ports", initOptions.skipInboundPorts,
                   "comma-separated ports not redirected");
  init->add_option("--skip-outbound-ports", initOptions.skipOutboundPorts,
                   "comma-separated ports not redirected");
  init->add_option("--skip-outbound-cidrs", initOptions.skipOutboundCidrs,
                   "comma-separated CIDRs not redirected");
  init->add_flag("--dry-run", initOptions.dryRun, "print the rules instead of installing them");
  init->add_flag("--cleanup", initOptions.cleanup, "remove the rules");
  lifecycle::Commands lifecycleCommands;
  lifecycle::addCommands(app, lifecycleCommands);

  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (init->parsed()) {
    auto r = init::runInit(initOptions);
    if (!r) {
      return flags::fail(app, "init: " + r.error().message);
    }
    return 0;
  }
  if (auto code = lifecycle::runIfParsed(app, lifecycleCommands)) {
    return *code;
  }
  app::ServerOptions options;
  if (!controlPlane.empty()) {
    auto colon = controlPlane.rfind(':');
    unsigned port = 0;
    if (colon != std::string::npos) {
      auto [end, err] = std::from_chars(controlPlane.data() + colon + 1,
                                        controlPlane.data() + controlPlane.size(), port);
      if (err != std::errc() || end != controlPlane.data() + controlPlane.size()) {
        port = 0;
      }
    }
    if (colon == std::string::npos || colon == 0 || port == 0 || port > 65535) {
      return flags::fail(app, "--control-plane: expected HOST:PORT");
    }
    auto trust = controlPlaneTrust(controlPlaneCa, trustAnchorsFile);
    if (!trust) {
      return flags::fail(app, trust.error().message);
    }
    discovery::ClientOptions d;
    d.host = controlPlane.substr(0, colon);
    d.port = static_cast<std::uint16_t>(port);
    d.trust = std::move(*trust);
    // The pod's identity from the downward API, for its Inbound stream.
    const char* ns = std::getenv("POD_NAMESPACE");
    const char* name = std::getenv("POD_NAME");
    if (ns != nullptr && name != nullptr && *ns != '\0' && *name != '\0') {
      d.pod = std::string(ns) + "/" + name;
    }
    if (!tokenFile.empty()) {
      const char* sa = std::getenv("SERVICE_ACCOUNT");
      if (d.pod.has_value() == false || sa == nullptr || *sa == '\0') {
        return flags::fail(app,
                           "--identity-token-file: POD_NAMESPACE, POD_NAME and SERVICE_ACCOUNT "
                           "must be set");
      }
      identity::IdentityOptions id;
      id.host = d.host;
      id.port = d.port;
      id.trust = d.trust;
      id.tokenFile = tokenFile;
      id.spiffeId = weft::tls::workloadId(trustDomain, ns, sa);
      options.identity = std::move(id);
    }
    options.discovery = std::move(d);
  } else if (!tokenFile.empty()) {
    return flags::fail(app, "an identity token needs --control-plane (the CA that signs it)");
  }
  options.settings.inboundAppPort = static_cast<std::uint16_t>(inboundAppPort);
  options.workers = workers;
  options.configFile = configFile;
  struct Listen {
    const char* flag;
    const std::string& text;
    net::Tcp::endpoint& out;
  };
  for (const Listen& l : {Listen{"--outbound-listen", outboundListen, options.outbound},
                          Listen{"--inbound-listen", inboundListen, options.inbound},
                          Listen{"--admin-listen", adminListen, options.admin}}) {
    auto ep = net::parseEndpoint(l.text);
    if (!ep) {
      return flags::fail(app, std::string(l.flag) + ": " + ep.error().message);
    }
    l.out = *ep;
  }
  struct Dur {
    const char* flag;
    const std::string& text;
    std::chrono::milliseconds& out;
  };
  for (const Dur& d : {Dur{"--detect-timeout", detectTimeout, options.settings.detectTimeout},
                       Dur{"--header-timeout", headerTimeout, options.settings.headerTimeout},
                       Dur{"--client-idle-timeout", clientIdle, options.settings.clientIdle},
                       Dur{"--drain-grace", drainGrace, options.drainGrace}}) {
    auto v = api::parseDuration(d.text);
    if (!v) {
      return flags::fail(app, std::string(d.flag) + ": " + v.error().message);
    }
    d.out = *v;
  }
  if (options.settings.detectTimeout > std::chrono::seconds(1) ||
      options.settings.detectTimeout.count() <= 0) {
    return flags::fail(app, "--detect-timeout: must be between 1ms and 1s");
  }
  if (opaquePorts.empty()) {
    options.settings.opaquePorts = tcp::defaultOpaquePorts();
  } else {
    auto ports = parsePorts(opaquePorts);
    if (!ports) {
      return flags::fail(app, "--opaque-ports: " + ports.error().message);
    }
    options.settings.opaquePorts = std::move(ports).value();
  }
  auto code = app::runServer(options);
  if (!code) {
    return flags::fail(app, code.error().message);
  }
  return *code;
}

}  // namespace weft::proxy
