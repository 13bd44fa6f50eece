// Parsing, validation and rendering of the redirect rules; no side effects.
#include "proxy/src/init/rules.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include <arpa/inet.h>
#include <fmt/format.h>

#include "common/strings.h"

namespace weft::proxy::init {
namespace {

constexpr std::array<std::string_view, 4> kOurChains = {kInboundChain, kInRedirectChain,
                                                        kOutputChain, kRedirectChain};

// Comma-separated entries, trimmed. Empty text is no entries; an empty entry
// inside a list ("80,,443") is kept so that the caller can refuse it.
std::vector<std::string_view> splitList(std::string_view text) {
  std::vector<std::string_view> out;
  if (trimOws(text).empty()) {
    return out;
  }
  while (true) {
    auto comma = text.find(',');
    out.push_back(trimOws(text.substr(0, comma)));
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Decimal digits only (no sign, no spaces), at most `max`.
bool parseNumber(std::string_view s, unsigned long long max, unsigned long long& out) {
  if (s.empty() || s.size() > 20 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out <= max;
}

Result<std::uint16_t> parsePort(std::string_view s, std::string_view entry) {
  unsigned long long n = 0;
  if (!parseNumber(s, 65535, n) || n == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     fmt::format("'{}' is not a port (expected 1-65535)", entry));
  }
  return static_cast<std::uint16_t>(n);
}

Result<Cidr> parseCidr(std::string_view entry) {
  auto bad = [&](std::string_view why) {
    return makeError(ErrorCode::kInvalidArgument,
                     fmt::format("'{}' is not a CIDR ({})", entry, why));
  };
  if (entry.empty()) {
    return bad("empty entry");
  }
  auto slash = entry.find('/');
  std::string address(entry.substr(0, slash));
  Family family = address.find(':') == std::string::npos ? Family::kIpv4 : Family::kIpv6;
  int af = family == Family::kIpv4 ? AF_INET : AF_INET6;
  unsigned maxBits = family == Family::kIpv4 ? 32 : 128;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(af, address.c_str(), bytes.data()) != 1) {
    return bad(family == Family::kIpv4 ? "bad IPv4 address" : "bad IPv6 address");
  }
  unsigned long long bits = maxBits;
  if (slash != std::string_view::npos && !parseNumber(entry.substr(slash + 1), maxBits, bits)) {
    return bad(fmt::format("prefix length must be 0-{}", maxBits));
  }
  // Clear host bits so equal networks render equally ("10.1.2.3/8" -> "10.0.0.0/8").
  for (unsigned i = 0; i < maxBits / 8; ++i) {
    unsigned start = i * 8;
    unsigned keep = bits <= start ? 0 : std::min(8u, static_cast<unsigned>(bits) - start);
    bytes[i] &= static_cast<unsigned char>(0xff00u >> keep);
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(af, bytes.data(), buf.data(), buf.size()) == nullptr) {
    return bad("cannot format address");
  }
  return Cidr{family, fmt::format("{}/{}", buf.data(), bits)};
}

Result<std::uint16_t> checkPort(std::string_view flag, unsigned long long value) {
  if (value == 0 || value > 65535) {
    return makeError(ErrorCode::kInvalidArgument,
                     fmt::format("{} {} is not a port (expected 1-65535)", flag, value));
  }
  return static_cast<std::uint16_t>(value);
}

std::string dport(const PortRange& r) {
  return r.first == r.last ? fmt::format("{}", r.first) : fmt::format("{}:{}", r.first, r.last);
}

bool isOurChain(std::string_view name) {
  return std::find(kOurChains.begin(), kOurChains.end(), name) != kOurChains.end();
}

// Calls fn(line) for each line of the nat table section of save output.
template <typename Fn>
void forEachNatLine(std::string_view save, Fn fn) {
  bool inNat = false;
  while (!save.empty()) {
    auto nl = save.find('\n');
    std::string_view line = save.substr(0, nl);
    save.remove_prefix(nl == std::string_view::npos ? save.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.starts_with('*')) {
      inNat = line == "*nat";
    } else if (inNat) {
      fn(line);
    }
  }
}

// The chain a rule line jumps or goes to ("-j X" / "-g X"), or empty.
std::string_view targetOf(std::string_view rule) {
  for (std::string_view flag : {std::string_view(" -j "), std::string_view(" -g ")}) {
    auto at = rule.find(flag);
    if (at != std::string_view::npos) {
      auto rest = rule.substr(at + flag.size());
      return rest.substr(0, rest.find(' '));
    }
  }
  return {};
}

// The chain a "-A CHAIN ..." line appends to.
std::string_view chainOf(std::string_view rule) {
  auto rest = rule.substr(3);
  return rest.substr(0, rest.find(' '));
}

// Existing jumps into our chains from chains that are not ours, as "-D" lines.
std::vector<std::string> jumpsToDelete(std::string_view save) {
  std::vector<std::string> out;
  forEachNatLine(save, [&](std::string_view line) {
    if (line.starts_with("-A ") && !isOurChain(chainOf(line)) && isOurChain(targetOf(line))) {
      out.push_back("-D " + std::string(line.substr(3)));
    }
  });
  return out;
}

std::vector<std::string_view> chainsPresent(std::string_view save) {
  std::vector<std::string_view> out;
  forEachNatLine(save, [&](std::string_view line) {
    if (line.starts_with(':')) {
      auto name = line.substr(1, line.find(' ') - 1);
      if (isOurChain(name)) {
        out.push_back(name);
      }
    }
  });
  return out;
}

void appendChainsAndRules(std::string& out, const RedirectConfig& c, Family family) {
  for (auto chain : kOurChains) {
    out += fmt::format(":{} - [0:0]\n", chain);
  }
  out += fmt::format("-A {} -p tcp -j REDIRECT --to-ports {}\n", kInRedirectChain, c.inboundPort);
  out += fmt::format("-A {} -p tcp -j REDIRECT --to-ports {}\n", kRedirectChain, c.outboundPort);

  out += "# inbound: the proxy's own ports are reached directly (probes, no self-loop)\n";
  for (std::uint16_t port : {c.adminPort, c.inboundPort, c.outboundPort}) {
    out += fmt::format("-A {} -p tcp --dport {} -j RETURN\n", kInboundChain, port);
  }
  if (!c.skipInboundPorts.empty()) {
    out += "# inbound: --skip-inbound-ports\n";
  }
  for (const auto& r : c.skipInboundPorts) {
    out += fmt::format("-A {} -p tcp --dport {} -j RETURN\n", kInboundChain, dport(r));
  }
  out += fmt::format("-A {} -p tcp -j {}\n", kInboundChain, kInRedirectChain);

  out += "# outbound: the proxy's own connections leave as they are\n";
  out += fmt::format("-A {} -m owner --uid-owner {} -j RETURN\n", kOutputChain, c.proxyUid);
  out += "# outbound: loopback, including the app calling its own pod IP\n";
  out += fmt::format("-A {} -o lo -j RETURN\n", kOutputChain);
  out += fmt::format("-A {} -d {} -j RETURN\n", kOutputChain,
                     family == Family::kIpv4 ? "127.0.0.0/8" : "::1/128");
  if (!c.skipOutboundPorts.empty()) {
    out += "# outbound: --skip-outbound-ports\n";
  }
  for (const auto& r : c.skipOutboundPorts) {
    out += fmt::format("-A {} -p tcp --dport {} -j RETURN\n", kOutputChain, dport(r));
  }
  bool cidrComment = false;
  for (const auto& cidr : c.skipOutboundCidrs) {
    if (cidr.family != family) {
      continue;
    }
    if (!cidrComment) {
      out += "# outbound: --skip-outbound-cidrs\n";
      cidrComment = true;
    }
    out += fmt::format("-A {} -d {} -j RETURN\n", kOutputChain, cidr.text);
  }
  out += fmt::format("-A {} -p tcp -j {}\n", kOutputChain, kRedirectChain);
}

void appendJumps(std::string& out) {
  out += fmt::format("-A PREROUTING -p tcp -j {}\n", kInboundChain);
  out += fmt::format("-A OUTPUT -p tcp -j {}\n", kOutputChain);
}

}  // namespace

Result<std::vector<PortRange>> parsePorts(std::string_view text) {
  std::vector<PortRange> out;
  for (auto entry : splitList(text)) {
    if (entry.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "empty entry in port list");
    }
    auto sep = entry.find_first_of("-:");
    auto first = parsePort(entry.substr(0, sep), entry);
    if (!first) {
      return first.error();
    }
    PortRange r{*first, *first};
    if (sep != std::string_view::npos) {
      auto last = parsePort(entry.substr(sep + 1), entry);
      if (!last) {
        return last.error();
      }
      if (*last < *first) {
        return makeError(ErrorCode::kInvalidArgument,
                         fmt::format("'{}' is a reversed port range", entry));
      }
      r.last = *last;
    }
    if (std::find(out.begin(), out.end(), r) == out.end()) {
      out.push_back(r);
    }
  }
  return out;
}

Result<std::vector<Cidr>> parseCidrs(std::string_view text) {
  std::vector<Cidr> out;
  for (auto entry : splitList(text)) {
    auto cidr = parseCidr(entry);
    if (!cidr) {
      return cidr.error();
    }
    if (std::find(out.begin(), out.end(), *cidr) == out.end()) {
      out.push_back(std::move(*cidr));
    }
  }
  return out;
}

Result<RedirectConfig> validate(const RawRedirectOptions& raw) {
  RedirectConfig c;
  // UID 0 would exempt every root process in the pod from the mesh.
  if (raw.proxyUid == 0 || raw.proxyUid >= std::numeric_limits<std::uint32_t>::max()) {
    return makeError(
        ErrorCode::kInvalidArgument,
        fmt::format("--proxy-uid {} is not allowed (expected 1-4294967294)", raw.proxyUid));
  }
  c.proxyUid = static_cast<std::uint32_t>(raw.proxyUid);
  auto inbound = checkPort("--inbound-port", raw.inboundPort);
  auto outbound = checkPort("--outbound-port", raw.outboundPort);
  auto admin = checkPort("admin port", raw.adminPort);
  for (const auto* r : {&inbound, &outbound, &admin}) {
    if (!*r) {
      return r->error();
    }
  }
  c.inboundPort = *inbound;
  c.outboundPort = *outbound;
  c.adminPort = *admin;
  if (c.inboundPort == c.outboundPort || c.inboundPort == c.adminPort ||
      c.outboundPort == c.adminPort) {
    return makeError(ErrorCode::kInvalidArgument,
                     fmt::format("--inbound-port {}, --outbound-port {} and the admin port {} "
                                 "must all differ",
                                 c.inboundPort, c.outboundPort, c.adminPort));
  }
  auto skipIn = parsePorts(raw.skipInboundPorts);
  if (!skipIn) {
    return skipIn.error().context("--skip-inbound-ports");
  }
  auto skipOut = parsePorts(raw.skipOutboundPorts);
  if (!skipOut) {
    return skipOut.error().context("--skip-outbound-ports");
  }
  auto cidrs = parseCidrs(raw.skipOutboundCidrs);
  if (!cidrs) {
    return cidrs.error().context("--skip-outbound-cidrs");
  }
  c.skipInboundPorts = std::move(*skipIn);
  c.skipOutboundPorts = std::move(*skipOut);
  c.skipOutboundCidrs = std::move(*cidrs);
  return c;
}

std::string renderRules(const RedirectConfig& config, Family family) {
  std::string out = "*nat\n";
  appendChainsAndRules(out, config, family);
  appendJumps(out);
  out += "COMMIT\n";
  return out;
}

std::string renderInstall(const RedirectConfig& config, Family family,
                          std::string_view currentNatTable) {
  std::string out = "*nat\n";
  appendChainsAndRules(out, config, family);
  for (const auto& del : jumpsToDelete(currentNatTable)) {
    out += del + "\n";
  }
  appendJumps(out);
  out += "COMMIT\n";
  return out;
}

std::string renderCleanup(std::string_view currentNatTable) {
  auto jumps = jumpsToDelete(currentNatTable);
  auto chains = chainsPresent(currentNatTable);
  if (jumps.empty() && chains.empty()) {
    return {};
  }
  std::string out = "*nat\n";
  for (const auto& del : jumps) {
    out += del + "\n";
  }
  // Flush all before deleting any: our chains jump to each other.
  for (auto chain : chains) {
    out += fmt::format("-F {}\n", chain);
  }
  for (auto chain : chains) {
    out += fmt::format("-X {}\n", chain);
  }
  out += "COMMIT\n";
  return out;
}

bool hasOurChains(std::string_view saveOutput) { return !chainsPresent(saveOutput).empty(); }

std::size_t countRules(std::string_view saveOutput) {
  std::size_t n = 0;
  while (!saveOutput.empty()) {
    auto nl = saveOutput.find('\n');
    if (saveOutput.starts_with("-A ")) {
      ++n;
    }
    saveOutput.remove_prefix(nl == std::string_view::npos ? saveOutput.size() : nl + 1);
  }
  return n;
}

}  // namespace weft::proxy::init
