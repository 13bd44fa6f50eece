// Command-line parsing shared by every binary: --help, --version,
// --log-level and --log-format behave the same everywhere, and a bad flag
// ends the process with one clear line and exit code 2.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace weft::flags {

struct CommonFlags {
  std::string logLevel;   // empty: WEFT_LOG_LEVEL, else info
  std::string logFormat;  // empty: WEFT_LOG_FORMAT, else plain
};

// An app named after the binary, with the common flags registered.
void addCommonFlags(CLI::App& app, CommonFlags& common);

// Parses argv and sets up logging. Returns an exit code when the process
// should stop now (0 after --help/--version, 2 on a usage error); nullopt to
// go on.
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv,
                         const CommonFlags& common);

// Reports a fatal startup problem as "<binary>: error: <message>"; returns 1.
int fail(const CLI::App& app, const std::string& message);

}  // namespace weft::flags
