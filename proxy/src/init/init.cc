// runInit: validate, pick the backend, then install/remove per family.
#include "proxy/src/init/init.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/log/log.h"
#include "proxy/src/init/command.h"
#include "proxy/src/init/iptables.h"
#include "proxy/src/init/rules.h"

namespace weft::proxy::init {
namespace {

std::string_view familyName(Family family) { return family == Family::kIpv4 ? "IPv4" : "IPv6"; }

std::string describePorts(const std::vector<PortRange>& ports) {
  std::string out;
  for (const auto& r : ports) {
    out += out.empty() ? "" : ",";
    out += r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}-{}", r.first, r.last);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<void> runInit(const InitOptions& options) {
  auto runner = makeSystemRunner();
  return runInit(options, *runner, "/proc", std::cout);
}

Result<void> runInit(const InitOptions& options, CommandRunner& runner, const std::string& procRoot,
                     std::ostream& out) {
  auto logger = log::get("proxy.init");
  RawRedirectOptions raw;
  raw.proxyUid = options.proxyUid;
  raw.inboundPort = options.inboundPort;
  raw.outboundPort = options.outboundPort;
  raw.skipInboundPorts = options.skipInboundPorts;
  raw.skipOutboundPorts = options.skipOutboundPorts;
  raw.skipOutboundCidrs = options.skipOutboundCidrs;
  auto config = validate(raw);
  if (!config) {
    return config.error();
  }
  if (options.dryRun && !options.cleanup) {
    // Static: needs no privileges and does not look at the current tables.
    out << "# IPv4: iptables-restore --noflush\n" << renderRules(*config, Family::kIpv4);
    out << "# IPv6: ip6tables-restore --noflush\n" << renderRules(*config, Family::kIpv6);
    return okResult();
  }

  std::string forced = options.backend;
  if (forced.empty()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in this process sets the environment.
    if (const char* env = std::getenv("WEFT_IPTABLES_BACKEND")) {
      forced = env;
    }
  }
  auto backend = chooseBackend(runner, forced);
  if (!backend) {
    return backend.error();
  }
  logger->info("using the iptables {} backend{}", toString(*backend),
               forced.empty() || forced == "auto" ? "" : " (forced)");

  auto ipv6 = detectIpv6(procRoot);
  std::vector<Family> families{Family::kIpv4};
  if (ipv6 == Ipv6Support::kAbsent) {
    logger->warn("IPv6 is not available in this network namespace: IPv4 rules only");
  } else {
    families.push_back(Family::kIpv6);
  }

  std::vector<Family> done;
  for (Family family : families) {
    // Without a global IPv6 address (or with IPv6 switched off) no IPv6
    // traffic worth meshing can leave the pod, so failing to set up its table
    // (e.g. no ip6table_nat) is worth a warning, not a pod that never starts.
    bool mayFail = family == Family::kIpv6 && ipv6 != Ipv6Support::kEnabled;
    if (options.dryRun) {
      auto plan = planCleanup(runner, *backend, family);
      if (!plan) {
        return plan.error().context(std::string(familyName(family)));
      }
      out << "# " << familyName(family) << ": " << toolsFor(*backend, family).restore
          << " --noflush\n"
          << (plan->empty() ? "# nothing to remove\n" : *plan);
      continue;
    }
    auto r = applyFamily(runner, *backend, family, options.cleanup ? nullptr : &*config);
    if (!r && mayFail) {
      logger->warn("IPv6 here: {}; its rules could not be {}: {}", toString(ipv6),
                   options.cleanup ? "removed" : "installed", r.error().message);
      continue;
    }
    if (!r) {
      return r.error().context(std::string(familyName(family)));
    }
    done.push_back(family);
  }

  std::string which = done.size() == 2 ? "IPv4 and IPv6" : "IPv4";
  if (options.dryRun) {
    return okResult();
  }
  if (options.cleanup) {
    logger->info("removed the redirect ({})", which);
    return okResult();
  }
  std::size_t v4Cidrs = 0;
  for (const auto& c : config->skipOutboundCidrs) {
    v4Cidrs += c.family == Family::kIpv4 ? 1 : 0;
  }
  logger->info(
      "installed the redirect ({}): inbound TCP -> :{} except ports {}; outbound TCP -> :{} "
      "except UID {}, loopback, ports {}, {} IPv4 and {} IPv6 CIDRs",
      which, config->inboundPort, describePorts(config->skipInboundPorts), config->outboundPort,
      config->proxyUid, describePorts(config->skipOutboundPorts), v4Cidrs,
      config->skipOutboundCidrs.size() - v4Cidrs);
  return okResult();
}

}  // namespace weft::proxy::init
