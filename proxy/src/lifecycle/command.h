// The `wait` and `drain` subcommands of weft-proxy: flags and exit codes.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace weft::proxy::lifecycle {

struct Commands {
  CLI::App* wait = nullptr;
  CLI::App* drain = nullptr;
  std::string waitAdmin = "127.0.0.1:15100";
  std::string drainAdmin = "127.0.0.1:15100";
  std::string waitTimeout = "300s";
  std::string drainTimeout = "30s";
};

// Registers both subcommands on weft-proxy's app.
void addCommands(CLI::App& app, Commands& commands);

// After parsing: the exit code when one of them was given (0 done, 1 with one
// line on stderr), nullopt otherwise.
std::optional<int> runIfParsed(const CLI::App& app, const Commands& commands);

}  // namespace weft::proxy::lifecycle
