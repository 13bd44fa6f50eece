#include "proxy/src/lifecycle/command.h"

#include "common/api/duration.h"
#include "common/flags/flags.h"
#include "common/log/log.h"
#include "proxy/src/lifecycle/lifecycle.h"

namespace weft::proxy::lifecycle {

void addCommands(CLI::App& app, Commands& c) {
  c.wait = app.add_subcommand(
      "wait", "wait until the local proxy is ready (GET /ready on the admin port answers 200)");
  c.wait->add_option("--admin", c.waitAdmin, "the proxy's admin address")->capture_default_str();
  c.wait->add_option("--timeout", c.waitTimeout, "give up after this long (exit 1)")
      ->capture_default_str();
  c.drain = app.add_subcommand(
      "drain",
      "make the local proxy stop accepting connections and wait until the open ones are done");
  c.drain->add_option("--admin", c.drainAdmin, "the proxy's admin address")->capture_default_str();
  c.drain->add_option("--timeout", c.drainTimeout, "give up after this long (exit 1)")
      ->capture_default_str();
}

std::optional<int> runIfParsed(const CLI::App& app, const Commands& c) {
  const bool wait = c.wait->parsed();
  if (!wait && !c.drain->parsed()) {
    return std::nullopt;
  }
  const char* name = wait ? "wait" : "drain";
  LifecycleOptions options;
  options.admin = wait ? c.waitAdmin : c.drainAdmin;
  auto timeout = api::parseDuration(wait ? c.waitTimeout : c.drainTimeout);
  if (!timeout || timeout->count() == 0) {
    return flags::fail(app, std::string(name) + ": --timeout: " +
                                (timeout ? "must be more than 0" : timeout.error().message));
  }
  options.timeout = *timeout;
  auto logger = log::get("proxy.lifecycle");
  if (wait) {
    if (auto r = waitReady(options); !r) {
      return flags::fail(app, "wait: " + r.error().message);
    }
    logger->info("proxy at {} is ready", options.admin);
    return 0;
  }
  auto r = drain(options);
  if (!r) {
    return flags::fail(app, "drain: " + r.error().message);
  }
  if (r->proxyGone) {
    logger->info("no proxy listening at {}: nothing to drain", options.admin);
  } else {
    logger->info("proxy at {} drained: no connection open", options.admin);
  }
  return 0;
}

}  // namespace weft::proxy::lifecycle
