// `weft-proxy init`: installs (or removes, or prints) the iptables redirect
// that sends a pod's TCP traffic through its proxy.
#pragma once

#include <iosfwd>
#include <string>

#include "common/result.h"

namespace weft::proxy::init {

class CommandRunner;

// The flags of `weft-proxy init`, as parsed; validated by runInit.
struct InitOptions {
  unsigned long long proxyUid = 2102;
  unsigned long long inboundPort = 15106;
  unsigned long long outboundPort = 15101;
  std::string skipInboundPorts;   // "80,443,8000-8010"
  std::string skipOutboundPorts;  // same form
  std::string skipOutboundCidrs;  // "10.0.0.0/8,2001:db8::/32"
  bool dryRun = false;            // print, change nothing
  bool cleanup = false;           // remove our jumps and chains
  // nft, legacy or auto (empty = env WEFT_IPTABLES_BACKEND, else auto).
  std::string backend;
};

// Validates the options and does the work with the real iptables tools;
// --dry-run output goes to stdout. Errors are one line for the user.
Result<void> runInit(const InitOptions& options);

// The same with the tools, /proc and output supplied (for tests).
Result<void> runInit(const InitOptions& options, CommandRunner& runner, const std::string& procRoot,
                     std::ostream& out);

}  // namespace weft::proxy::init
