// spdlog wiring: one stderr sink shared by every component logger.
#include "common/log/log.h"

#include <cstdlib>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace weft::log {
namespace {

std::mutex& setupMutex() {
  static std::mutex m;
  return m;
}

spdlog::sink_ptr& sharedSink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

Options& current() {
  static Options options;
  return options;
}

void appendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line =
        formatJson(std::string_view(msg.logger_name.data(), msg.logger_name.size()), msg.level,
                   std::string_view(msg.payload.data(), msg.payload.size()), msg.time);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> makeFormatter(Format format) {
  if (format == Format::kJson) {
    return std::make_unique<JsonFormatter>();
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v",
                                                     spdlog::pattern_time_type::utc);
}

}  // namespace

Result<spdlog::level::level_enum> parseLevel(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off},
  };
  for (const auto& [name, level] : kLevels) {
    if (text == name) {
      return level;
    }
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown log level '" + std::string(text) +
                       "' (expected trace, debug, info, warn, error, critical or off)");
}

Result<Format> parseFormat(std::string_view text) {
  if (text == "plain") {
    return Format::kPlain;
  }
  if (text == "json") {
    return Format::kJson;
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "unknown log format '" + std::string(text) + "' (expected plain or json)");
}

Result<Options> resolveOptions(const std::string& levelFlag, const std::string& formatFlag) {
  Options options;
  std::string level = levelFlag;
  if (level.empty()) {
    const char* env = std::getenv("WEFT_LOG_LEVEL");
    level = env != nullptr && *env != '\0' ? env : "info";
  }
  std::string format = formatFlag;
  if (format.empty()) {
    const char* env = std::getenv("WEFT_LOG_FORMAT");
    format = env != nullptr && *env != '\0' ? env : "plain";
  }
  if (auto parsed = parseLevel(level); !parsed) {
    return parsed.error().context(levelFlag.empty() ? "WEFT_LOG_LEVEL" : "--log-level");
  }
  auto parsedFormat = parseFormat(format);
  if (!parsedFormat) {
    return parsedFormat.error().context(formatFlag.empty() ? "WEFT_LOG_FORMAT" : "--log-format");
  }
  options.level = level;
  options.format = *parsedFormat;
  return options;
}

Result<void> setup(const Options& options) {
  auto level = parseLevel(options.level);
  if (!level) {
    return level.error();
  }
  std::lock_guard lock(setupMutex());
  current() = options;
  sharedSink()->set_formatter(makeFormatter(options.format));
  spdlog::set_level(*level);
  spdlog::apply_all(
      [&](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(*level); });
  return {};
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  if (auto existing = spdlog::get(component)) {
    return existing;
  }
  std::lock_guard lock(setupMutex());
  if (auto existing = spdlog::get(component)) {
    return existing;
  }
  auto logger = std::make_shared<spdlog::logger>(component, sharedSink());
  logger->set_level(spdlog::get_level());
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

std::string formatJson(std::string_view logger, spdlog::level::level_enum level,
                       std::string_view message, std::chrono::system_clock::time_point time) {
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  std::time_t secs = static_cast<std::time_t>(millis.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>(millis.count() % 1000));

  auto levelName = spdlog::level::to_string_view(level);
  std::string out;
  out.reserve(64 + message.size());
  out += "{\"ts\":\"";
  out += stamp;
  out += frac;
  out += "\",\"level\":\"";
  appendEscaped(out, std::string_view(levelName.data(), levelName.size()));
  out += "\",\"logger\":\"";
  appendEscaped(out, logger);
  out += "\",\"msg\":\"";
  appendEscaped(out, message);
  out += "\"}";
  return out;
}

}  // namespace weft::log
