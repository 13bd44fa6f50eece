// CLI11 glue: shared flags, uniform usage errors, logging set up from flags.
#include "common/flags/flags.h"

#include <iostream>

#include "common/log/log.h"
#include "weft/version.h"

namespace weft::flags {

void addCommonFlags(CLI::App& app, CommonFlags& common) {
  app.set_version_flag("--version", std::string(app.get_name()) + " " + kVersion);
  app.add_option("--log-level", common.logLevel,
                 "trace, debug, info, warn, error, critical or off (env WEFT_LOG_LEVEL)");
  app.add_option("--log-format", common.logFormat, "plain or json (env WEFT_LOG_FORMAT)");
  app.require_subcommand(0);
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv,
                         const CommonFlags& common) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": error: " << e.what() << " (see --help)\n";
    return 2;
  }
  auto options = log::resolveOptions(common.logLevel, common.logFormat);
  if (!options) {
    std::cerr << app.get_name() << ": error: " << options.error().message << "\n";
    return 2;
  }
  if (auto r = log::setup(*options); !r) {
    std::cerr << app.get_name() << ": error: " << r.error().message << "\n";
    return 2;
  }
  return std::nullopt;
}

int fail(const CLI::App& app, const std::string& message) {
  std::cerr << app.get_name() << ": error: " << message << "\n";
  return 1;
}

}  // namespace weft::flags
