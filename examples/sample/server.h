// `weft-sample serve`: the demo's sample service. An HTTP/1.1 keep-alive
// server, a thread per connection, that answers with its name and version,
// optionally late, failing at a rate, or after calling an upstream.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "examples/sample/net.h"

namespace weft::sample {

struct ServeOptions {
  HostPort listen;
  std::string name;
  std::string version;
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds jitter{0};  // latency is uniform in latency +- jitter
  double errorRate = 0;                 // share of requests answered 503
  std::optional<Url> call;              // one GET to it per request
  std::string callHost;                 // Host of that call; the URL's authority when empty
  std::chrono::milliseconds callTimeout{2000};
  std::chrono::milliseconds idleTimeout{60000};  // keep-alive connections
  std::chrono::milliseconds readTimeout{10000};  // a request, from its first byte
  unsigned maxConnections = 1024;
};

// Serves until stopFd becomes readable, then stops accepting, closes idle
// connections and lets requests in flight finish. Prints "listening on
// ADDR:PORT" to `out` once it accepts connections. Returns the exit code.
int runServe(const ServeOptions& options, int stopFd, std::ostream& out);

}  // namespace weft::sample
