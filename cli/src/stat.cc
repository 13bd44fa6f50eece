// weftctl stat: scrape every proxy each round, compare with the last round, print a table.
#include "cli/src/stat.h"

#include <iostream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/src/scrape.h"
#include "common/api/duration.h"

namespace weft::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Target {
  std::string name;
  api::HostPort address;
};

struct Plan {
  std::vector<Target> targets;
  milliseconds interval{1000};
  unsigned rounds = 1;  // 0: until interrupted
  milliseconds timeout{1000};
};

Result<Plan> plan(const StatFlags& flags) {
  auto bad = [](const std::string& m) { return makeError(ErrorCode::kInvalidArgument, m); };
  Plan p;
  if (flags.proxies.empty()) {
    return bad("name the proxies to watch: --proxy NAME=HOST:PORT (their admin port, 15100)");
  }
  std::set<std::string> names;
  for (const auto& spec : flags.proxies) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      return bad("--proxy " + spec + ": expected NAME=HOST:PORT");
    }
    auto address = api::parseAuthority(std::string_view(spec).substr(eq + 1));
    if (!address) {
      return bad("--proxy " + spec + ": " + address.error().message);
    }
    std::string name = spec.substr(0, eq);
    if (!names.insert(name).second) {
      return bad("--proxy " + spec + ": the name " + name + " is given twice");
    }
    p.targets.push_back({name, *address});
  }
  auto timeout = api::parseDuration(flags.timeout);
  if (!timeout || timeout->count() <= 0 || *timeout > std::chrono::seconds(30)) {
    return bad("--timeout " + flags.timeout + ": expected a duration from 1ms to 30s" +
               (timeout ? "" : " (" + timeout.error().message + ")"));
  }
  p.timeout = *timeout;
  if (!flags.watch.empty()) {
    auto watch = api::parseDuration(flags.watch);
    if (!watch || *watch < milliseconds(100)) {
      return bad("--watch " + flags.watch + ": expected a duration of at least 100ms" +
                 (watch ? "" : " (" + watch.error().message + ")"));
    }
    p.interval = *watch;
    p.rounds = flags.count;
  } else if (flags.count > 1) {
    return bad("--count needs --watch");
  }
  // A scrape must end before the next round starts.
  p.timeout = std::min(p.timeout, p.interval);
  return p;
}

std::string percent(const std::optional<double>& share, int decimals) {
  return share ? fmt::format("{:.{}f}%", *share * 100, decimals) : "-";
}

std::string latency(const std::optional<double>& seconds) {
  if (!seconds) {
    return "-";
  }
  double ms = *seconds * 1000;
  if (ms < 10) {
    return fmt::format("{:.1f}ms", ms);
  }
  if (ms < 1000) {
    return fmt::format("{:.0f}ms", ms);
  }
  return fmt::format("{:.2f}s", *seconds);
}

std::string rps(const Traffic& t) { return fmt::format("{:.1f}", t.rps); }

}  // namespace

void addStatFlags(CLI::App& stat, StatFlags& flags) {
  stat.add_option("--proxy", flags.proxies,
                  "NAME=HOST:PORT of a proxy's admin endpoint (port 15100); repeat for each")
      ->type_name("NAME=HOST:PORT");
  stat.add_option("--watch", flags.watch, "redraw every DURATION until --count or Ctrl-C")
      ->type_name("DURATION");
  stat.add_option("--count", flags.count, "tables to print with --watch (default: no limit)")
      ->check(CLI::Range(1u, 1000000u));
  stat.add_option("--timeout", flags.timeout, "per scrape (default 1s)")->type_name("DURATION");
}

std::string renderStatTable(const std::vector<StatRow>& rows, double windowSeconds) {
  std::size_t width = 8;
  for (const auto& r : rows) {
    width = std::max(width, r.name.size() + 2);
  }
  std::string out =
      fmt::format("{:<{}}{:<8}{:>9}{:>9}{:>8}{:>8}{:>7}{:>10}{:>9}{:>9}   (last {:.1f}s)\n", "NAME",
                  width, "STATUS", "RPS", "SUCCESS", "P50", "P99", "MTLS", "OUT RPS", "OUT OK",
                  "OUT P99", windowSeconds);
  std::string notes;
  for (const auto& r : rows) {
    if (!r.golden) {
      bool down = !r.problem.empty();
      out += fmt::format("{:<{}}{:<8}{:>9}{:>9}{:>8}{:>8}{:>7}{:>10}{:>9}{:>9}\n", r.name, width,
                         down ? "down" : "up", "-", "-", "-", "-", "-", "-", "-", "-");
      if (down) {
        notes += fmt::format("  {} ({}): {}\n", r.name, r.address, r.problem);
      }
      continue;
    }
    const Golden& g = *r.golden;
    out +=
        fmt::format("{:<{}}{:<8}{:>9}{:>9}{:>8}{:>8}{:>7}{:>10}{:>9}{:>9}\n", r.name, width, "up",
                    rps(g.inbound), percent(g.inbound.successRate, 1), latency(g.inbound.p50),
                    latency(g.inbound.p99), percent(g.mtlsShare, 0), rps(g.outbound),
                    percent(g.outbound.successRate, 1), latency(g.outbound.p99));
  }
  return out + notes;
}

int runStat(const StatFlags& flags, std::ostream& out, std::ostream& err, bool redraw) {
  auto p = plan(flags);
  if (!p) {
    err << "weftctl: error: stat: " << p.error().message << "\n";
    return 2;
  }
  std::vector<api::HostPort> addresses;
  for (const auto& t : p->targets) {
    addresses.push_back(t.address);
  }
  std::vector<std::optional<std::vector<Sample>>> previous(addresses.size());
  std::vector<std::string> problems(addresses.size());
  // Each round's scrapes are compared with the round before; the first only sets the baseline.
  auto scrapeRound = [&](std::vector<std::optional<std::vector<Sample>>>& into) {
    auto bodies = scrapeAll(addresses, "/metrics", p->timeout);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      into[i].reset();
      problems[i].clear();
      if (!bodies[i]) {
        problems[i] = bodies[i].error().message;
        continue;
      }
      auto samples = parsePrometheusText(*bodies[i]);
      if (!samples) {
        problems[i] = "unreadable /metrics: " + samples.error().message;
        continue;
      }
      into[i] = std::move(*samples);
    }
  };
  Clock::time_point last = Clock::now();
  scrapeRound(previous);
  std::size_t drawnLines = 0;
  for (unsigned round = 1; p->rounds == 0 || round <= p->rounds; ++round) {
    std::this_thread::sleep_until(last + p->interval);
    Clock::time_point now = Clock::now();
    double window = std::chrono::duration<double>(now - last).count();
    last = now;
    std::vector<std::optional<std::vector<Sample>>> current(addresses.size());
    scrapeRound(current);
    std::vector<StatRow> rows;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      StatRow row{p->targets[i].name, p->targets[i].address.str(), std::nullopt, problems[i]};
      if (current[i] && previous[i]) {
        row.golden = golden(increase(*previous[i], *current[i]), window);
      }
      rows.push_back(std::move(row));
    }
    previous = std::move(current);
    std::string table = renderStatTable(rows, window);
    if (redraw && drawnLines > 0) {
      out << "\x1b[" << drawnLines << "F\x1b[J";  // back to the last table's first line, clear
    } else if (round > 1) {
      out << "\n";
    }
    out << table << std::flush;
    drawnLines = static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n'));
  }
  return 0;
}

int runStat(const StatFlags& flags) {
  return runStat(flags, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
}

}  // namespace weft::cli
