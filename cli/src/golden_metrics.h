// Golden metrics of one proxy (request rate, success rate, latency, mTLS
// share) from two scrapes of its /metrics. Pure functions, no I/O.
#pragma once

#include <optional>
#include <vector>

#include "cli/src/prometheus_text.h"

namespace weft::cli {

// Per-series increase between two scrapes of the same process. A series
// whose value went down was reset (the proxy restarted): its increase is its
// new value. A series only in `after` counts from zero.
std::vector<Sample> increase(const std::vector<Sample>& before, const std::vector<Sample>& after);

struct Bucket {
  double le = 0;     // upper bound; +Inf for the last bucket
  double count = 0;  // cumulative: observations <= le
};

// The q-quantile (0..1) of a cumulative histogram, interpolated linearly
// inside the bucket where it falls, like PromQL's histogram_quantile; in the
// +Inf bucket it is the largest finite bound. nullopt without observations.
std::optional<double> quantileFromBuckets(double q, std::vector<Bucket> buckets);

struct Traffic {
  double requests = 0;  // in the window
  double serverErrors = 0;
  double rps = 0;
  std::optional<double> successRate;  // non-5xx share; nullopt without requests
  std::optional<double> p50;          // seconds
  std::optional<double> p99;
};

struct Golden {
  Traffic inbound;   // requests the workload served
  Traffic outbound;  // requests the workload made
  // Inbound HTTP requests that came with a peer identity (mTLS) / all of
  // them; nullopt without inbound requests.
  std::optional<double> mtlsShare;
};

// From the increases over a window of `seconds` (weft_requests_total,
// weft_request_duration_seconds, weft_inbound_requests_by_peer_total).
Golden golden(const std::vector<Sample>& increases, double seconds);

}  // namespace weft::cli
