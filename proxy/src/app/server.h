// The running proxy: workers with their listeners, the admin server,
// config reloads (file change, SIGHUP) and the drain on SIGTERM.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "proxy/src/discovery/client.h"
#include "proxy/src/identity/identity_client.h"
#include "proxy/src/net/context.h"

namespace weft::proxy::app {

struct ServerOptions {
  net::Tcp::endpoint outbound;
  net::Tcp::endpoint inbound;
  net::Tcp::endpoint admin;
  unsigned workers = 1;
  std::string configFile;  // empty: no documents, everything to the original destination
  // Documents from the control plane instead of a file.
  std::optional<discovery::ClientOptions> discovery;
  // Workload identity and mTLS; not ready until the first certificate.
  std::optional<identity::IdentityOptions> identity;
  net::Settings settings;
  std::chrono::milliseconds drainGrace{10000};
};

// Runs until drained; returns the process exit code. Startup errors are
// printed as one line by the caller from the returned Error.
Result<int> runServer(const ServerOptions& options);

}  // namespace weft::proxy::app
