// Backend choice and the save -> render -> restore cycle for one family.
#include "proxy/src/init/iptables.h"

#include <fmt/format.h>

#include "common/file.h"

namespace weft::proxy::init {
namespace {

// iptables' errors span a few lines ("...\nError occurred at line: 3\nTry ..."):
// keep the first ones, joined, for a one-line message.
std::string firstLines(std::string_view text, std::size_t maxLines = 2) {
  std::string out;
  std::size_t lines = 0;
  while (!text.empty() && lines < maxLines) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      continue;
    }
    out += out.empty() ? "" : "; ";
    out += line;
    ++lines;
  }
  return out;
}

Result<std::string> saveNat(CommandRunner& runner, const Tools& tools) {
  auto r = runner.run({tools.save, "-t", "nat"}, "");
  if (!r) {
    return r.error();
  }
  if (r->exitCode != 0) {
    bool denied = r->err.find("Permission denied") != std::string::npos ||
                  r->err.find("Operation not permitted") != std::string::npos;
    return makeError(denied ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                     fmt::format("{} -t nat failed (exit {}): {}{}", tools.save, r->exitCode,
                                 firstLines(r->err), denied ? " (needs NET_ADMIN)" : ""));
  }
  return std::move(r->out);
}

struct BackendState {
  bool usable = false;
  bool ours = false;
  std::size_t rules = 0;
};

// Both families, all tables: which backend the pod's network already uses.
BackendState inspect(CommandRunner& runner, Backend backend) {
  BackendState state;
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    Tools tools = toolsFor(backend, family);
    if (!runner.available(tools.save) || !runner.available(tools.restore)) {
      continue;
    }
    auto r = runner.run({tools.save}, "");
    if (!r || r->exitCode != 0) {
      continue;
    }
    state.usable = true;
    state.ours = state.ours || hasOurChains(r->out);
    state.rules += countRules(r->out);
  }
  return state;
}

}  // namespace

std::string_view toString(Backend backend) { return backend == Backend::kNft ? "nft" : "legacy"; }

Tools toolsFor(Backend backend, Family family) {
  std::string base = family == Family::kIpv4 ? "iptables-" : "ip6tables-";
  base += toString(backend);
  return Tools{base + "-save", base + "-restore"};
}

Result<Backend> chooseBackend(CommandRunner& runner, std::string_view forced) {
  if (forced == "nft" || forced == "legacy") {
    Backend b = forced == "nft" ? Backend::kNft : Backend::kLegacy;
    if (!runner.available(toolsFor(b, Family::kIpv4).restore)) {
      return makeError(ErrorCode::kNotFound,
                       fmt::format("{} not found", toolsFor(b, Family::kIpv4).restore));
    }
    return b;
  }
  if (!forced.empty() && forced != "auto") {
    return makeError(ErrorCode::kInvalidArgument,
                     fmt::format("iptables backend '{}' is not nft, legacy or auto", forced));
  }
  BackendState nft = inspect(runner, Backend::kNft);
  BackendState legacy = inspect(runner, Backend::kLegacy);
  if (!nft.usable && !legacy.usable) {
    return makeError(ErrorCode::kNotFound,
                     "neither iptables-nft-save nor iptables-legacy-save works here "
                     "(is iptables installed, and do we have NET_ADMIN?)");
  }
  if (nft.usable != legacy.usable) {
    return nft.usable ? Backend::kNft : Backend::kLegacy;
  }
  if (nft.ours != legacy.ours) {
    return nft.ours ? Backend::kNft : Backend::kLegacy;
  }
  return legacy.rules > nft.rules ? Backend::kLegacy : Backend::kNft;
}

std::string_view toString(Ipv6Support support) {
  switch (support) {
    case Ipv6Support::kEnabled:
      return "enabled";
    case Ipv6Support::kNoGlobalAddress:
      return "no global IPv6 address";
    case Ipv6Support::kDisabled:
      return "disabled by sysctl (disable_ipv6=1)";
    case Ipv6Support::kAbsent:
      return "no IPv6 stack";
  }
  return "unknown";
}

Ipv6Support detectIpv6(const std::string& procRoot) {
  auto addresses = readFile(procRoot + "/net/if_inet6", 1 << 20);
  if (!addresses) {
    return Ipv6Support::kAbsent;
  }
  auto disabled = readFile(procRoot + "/sys/net/ipv6/conf/all/disable_ipv6", 64);
  if (disabled && disabled->starts_with("1")) {
    return Ipv6Support::kDisabled;
  }
  // Lines: address ifindex prefixlen scope flags name; scope 00 is global.
  std::string_view rest = *addresses;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    std::size_t field = 0;
    std::size_t pos = 0;
    while (pos < line.size()) {
      auto start = line.find_first_not_of(' ', pos);
      if (start == std::string_view::npos) {
        break;
      }
      auto end = line.find(' ', start);
      auto token = line.substr(start, end == std::string_view::npos ? end : end - start);
      if (field == 3 && token == "00") {
        return Ipv6Support::kEnabled;
      }
      ++field;
      pos = end == std::string_view::npos ? line.size() : end;
    }
  }
  return Ipv6Support::kNoGlobalAddress;
}

Result<std::string> planCleanup(CommandRunner& runner, Backend backend, Family family) {
  auto current = saveNat(runner, toolsFor(backend, family));
  if (!current) {
    return current.error();
  }
  return renderCleanup(*current);
}

Result<void> applyFamily(CommandRunner& runner, Backend backend, Family family,
                         const RedirectConfig* config) {
  Tools tools = toolsFor(backend, family);
  auto current = saveNat(runner, tools);
  if (!current) {
    return current.error();
  }
  std::string transaction =
      config != nullptr ? renderInstall(*config, family, *current) : renderCleanup(*current);
  if (transaction.empty()) {
    return okResult();
  }
  std::vector<std::string> argv{tools.restore, "--noflush"};
  if (backend == Backend::kLegacy) {
    // Legacy takes a global lock that kube tooling may hold briefly; nft has none.
    argv.emplace_back("--wait=10");
  }
  auto r = runner.run(argv, transaction);
  if (!r) {
    return r.error();
  }
  if (r->exitCode != 0) {
    return makeError(ErrorCode::kIo, fmt::format("{} --noflush failed (exit {}): {}", tools.restore,
                                                 r->exitCode, firstLines(r->err)));
  }
  return okResult();
}

}  // namespace weft::proxy::init
