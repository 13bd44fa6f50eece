// `weft-sample load`: a bounded HTTP/1.1 load generator. Keep-alive
// connections, closed loop or open loop at a fixed rate, results counted by
// status, by error and by the sample services' version headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "common/result.h"
#include "examples/sample/latency.h"
#include "examples/sample/net.h"

namespace weft::sample {

struct LoadOptions {
  Url url;
  std::string host;  // Host header; the URL's authority when empty
  double rate = 0;   // requests per second, open loop; 0: each connection sends as fast as it can
  unsigned concurrency = 1;
  std::uint64_t requests = 0;             // the bound: this many requests,
  std::chrono::milliseconds duration{0};  // or for this long
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds interval{0};  // a progress line this often; 0: none
};

// Refuses options without a bound, or with both, or out of range.
Result<void> validate(const LoadOptions& options);

struct LoadStats {
  std::uint64_t total = 0;
  std::uint64_t ok = 0;  // 2xx
  std::map<int, std::uint64_t> byStatus;
  std::map<std::string, std::uint64_t> byError;   // no response: connect_refused, reset, timeout...
  std::map<std::string, std::uint64_t> versions;  // x-sample-version
  std::map<std::string, std::uint64_t> upstreamVersions;  // x-sample-upstream-version
  LatencyHistogram latency;                               // requests that got a response

  std::uint64_t failed() const { return total - ok; }
  void merge(const LoadStats& other);
};

struct LoadReport {
  LoadStats stats;
  double seconds = 0;
  bool interrupted = false;  // stopFd fired before the bound
};

// Runs the load until its bound or until stopFd becomes readable. Progress
// lines (--interval) go to `progress`. Fails only when the host does not resolve.
Result<LoadReport> runLoad(const LoadOptions& options, int stopFd, std::ostream& progress);

std::string formatSummary(const LoadReport& report);
std::string formatJson(const LoadReport& report);
// One progress line: the interval that ended `at` seconds into the run.
std::string formatInterval(double at, double seconds, const LoadStats& stats);

}  // namespace weft::sample
