// weftctl stat: golden metrics per workload, live, from each proxy's admin
// /metrics: requests per second, success rate, p50/p99 latency and the share
// of inbound traffic that came over mTLS.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/src/golden_metrics.h"

namespace weft::cli {

struct StatFlags {
  std::vector<std::string> proxies;  // NAME=HOST:PORT of each proxy's admin endpoint
  std::string watch;                 // redraw this often; empty: one table after 1s
  unsigned count = 0;                // tables to print with --watch; 0: until Ctrl-C
  std::string timeout = "1s";        // per scrape
};

void addStatFlags(CLI::App& stat, StatFlags& flags);

// Prints tables to `out` (redrawn in place when `redraw`), problems with the
// flags to `err` as one line. Returns the exit code: 0, or 2 for bad flags.
int runStat(const StatFlags& flags, std::ostream& out, std::ostream& err, bool redraw);
// The same on stdout/stderr, redrawing when stdout is a terminal.
int runStat(const StatFlags& flags);

// One proxy's line of the table.
struct StatRow {
  std::string name;
  std::string address;
  std::optional<Golden> golden;  // nullopt: down, or no earlier scrape to compare with
  std::string problem;           // why it is down; "" when it answered
};

std::string renderStatTable(const std::vector<StatRow>& rows, double windowSeconds);

}  // namespace weft::cli
