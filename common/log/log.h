// Process-wide logging: set up once by each binary's main, then a named
// logger per component. Lines go to stderr, plain or as JSON objects.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace weft::log {

enum class Format { kPlain, kJson };

struct Options {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  Format format = Format::kPlain;
};

Result<spdlog::level::level_enum> parseLevel(std::string_view text);
Result<Format> parseFormat(std::string_view text);

// Fills unset fields from WEFT_LOG_LEVEL / WEFT_LOG_FORMAT. Flags win over the
// environment, so callers pass what the user typed (empty = not given).
Result<Options> resolveOptions(const std::string& levelFlag, const std::string& formatFlag);

// Installs the sink and formatter for every logger, existing and future.
// Safe to call again (tests do); the last call wins.
Result<void> setup(const Options& options);

// A logger named after a component ("proxy.http", "operator.queue"); created
// on first use and shared after. Thread-safe.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Formats one record as a JSON object (exposed for tests).
std::string formatJson(std::string_view logger, spdlog::level::level_enum level,
                       std::string_view message, std::chrono::system_clock::time_point time);

}  // namespace weft::log
