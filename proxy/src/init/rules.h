// The redirect rules of `weft-proxy init`: option parsing and validation, and
// pure rendering of iptables-restore input for the nat table (IPv4 and IPv6).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace weft::proxy::init {

enum class Family { kIpv4, kIpv6 };

// Our chains in the nat table. Built-in chains only ever hold one jump to them.
inline constexpr std::string_view kInboundChain = "WEFT_INBOUND";
inline constexpr std::string_view kInRedirectChain = "WEFT_IN_REDIRECT";
inline constexpr std::string_view kOutputChain = "WEFT_OUTPUT";
inline constexpr std::string_view kRedirectChain = "WEFT_REDIRECT";

// An inclusive TCP port range; a single port has first == last.
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// A network in canonical form: host bits cleared, "10.0.0.0/8", "2001:db8::/32".
struct Cidr {
  Family family = Family::kIpv4;
  std::string text;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "80, 443,8000-8010" (also "8000:8010"); empty text is an empty list.
// Duplicates are dropped; an empty entry, port 0, a port above 65535 or a
// reversed range is an error naming the entry.
Result<std::vector<PortRange>> parsePorts(std::string_view text);

// "10.0.0.0/8,2001:db8::/32,192.0.2.7"; a bare address is a host (/32, /128).
Result<std::vector<Cidr>> parseCidrs(std::string_view text);

// Validated settings the rules are rendered from.
struct RedirectConfig {
  std::uint32_t proxyUid = 2102;
  std::uint16_t inboundPort = 15106;
  std::uint16_t outboundPort = 15101;
  std::uint16_t adminPort = 15100;
  std::vector<PortRange> skipInboundPorts;
  std::vector<PortRange> skipOutboundPorts;
  std::vector<Cidr> skipOutboundCidrs;  // both families; rendering picks one
};

// Raw option values, as typed on the command line or in pod annotations.
struct RawRedirectOptions {
  unsigned long long proxyUid = 2102;
  unsigned long long inboundPort = 15106;
  unsigned long long outboundPort = 15101;
  unsigned long long adminPort = 15100;
  std::string skipInboundPorts;
  std::string skipOutboundPorts;
  std::string skipOutboundCidrs;
};

// Checks ranges and parses the lists; errors name the option and the value.
Result<RedirectConfig> validate(const RawRedirectOptions& raw);

// Our chains and rules for one family, as one iptables-restore --noflush
// transaction against a table that has none of them yet (what --dry-run shows).
std::string renderRules(const RedirectConfig& config, Family family);

// The transaction that installs the rules given the table's current
// `iptables-save -t nat` output: declaring our chains flushes them, and every
// existing jump to them from a built-in chain is deleted before ours is
// added, so running it any number of times leaves exactly one copy.
std::string renderInstall(const RedirectConfig& config, Family family,
                          std::string_view currentNatTable);

// The transaction that removes our jumps and chains; empty when the table
// holds none of them (nothing to do).
std::string renderCleanup(std::string_view currentNatTable);

// Whether `iptables-save` output shows any of our chains.
bool hasOurChains(std::string_view saveOutput);

// Number of rules ("-A" lines) in `iptables-save` output, over all tables.
std::size_t countRules(std::string_view saveOutput);

}  // namespace weft::proxy::init
