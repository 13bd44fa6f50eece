// Installing and removing the rules with the iptables tools: backend choice
// (nft or legacy), IPv6 availability, one atomic restore per family.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "proxy/src/init/command.h"
#include "proxy/src/init/rules.h"

namespace weft::proxy::init {

enum class Backend { kNft, kLegacy };

std::string_view toString(Backend backend);

struct Tools {
  std::string save;
  std::string restore;
};

// "iptables-nft-save"/"ip6tables-legacy-restore" and so on.
Tools toolsFor(Backend backend, Family family);

// `forced` is "nft", "legacy" or empty/"auto". Auto, like Istio and
// Kubernetes' iptables-wrapper: the backend that already holds our chains
// (so a second run or --cleanup finds them), else the one with more rules
// (the one kube-proxy or the CNI uses), else nft (Debian 12's default).
Result<Backend> chooseBackend(CommandRunner& runner, std::string_view forced);

enum class Ipv6Support {
  kEnabled,          // a global IPv6 address exists: IPv6 rules are required
  kNoGlobalAddress,  // only loopback/link-local (an IPv4-only pod): rules are best effort
  kDisabled,         // the stack exists but net.ipv6.conf.all.disable_ipv6=1
  kAbsent,           // no IPv6 stack in this kernel (ipv6.disable=1 or not built)
};

std::string_view toString(Ipv6Support support);

// Reads <procRoot>/net/if_inet6 and <procRoot>/sys/net/ipv6/conf/all/disable_ipv6.
// Init containers run after the CNI has set the pod's addresses, so these are final.
Ipv6Support detectIpv6(const std::string& procRoot = "/proc");

// Installs (config given) or removes (config null) our rules for one family in
// one `*-restore --noflush` transaction built from the current table.
Result<void> applyFamily(CommandRunner& runner, Backend backend, Family family,
                         const RedirectConfig* config);

// The cleanup transaction for one family, from the current table ("" = nothing to do).
Result<std::string> planCleanup(CommandRunner& runner, Backend backend, Family family);

}  // namespace weft::proxy::init
