// The proxy's metrics, declared once. Families are looked up by label values
// off the hot path; request handling caches the series it needs per worker.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/metrics/metrics.h"

namespace weft::proxy::metrics {

using weft::metrics::Counter;
using weft::metrics::Gauge;
using weft::metrics::Histogram;

// Reasons of responses the proxy makes itself (`weft-error` header).
enum class ErrorReason {
  kNoEndpoints,
  kAllEjected,
  kConnectTimeout,
  kConnectRefused,
  kRequestTimeout,
  kOverloaded,
  kRetryBudgetExhausted,
  kBadRequest,
  kUpstreamProtocolError,
  kHeaderTimeout,
  kNoRoute,
  kFaultInjected,
  kPlaintextRefused,
  kUpstreamTlsError,
  kTlsIdentityMismatch,
  kForbidden,
  kCount,
};
const char* toString(ErrorReason r);

struct ProxyMetrics {
  explicit ProxyMetrics(unsigned shards);

  weft::metrics::Registry registry;
  weft::metrics::CounterFamily& requests;           // direction, destination, code
  weft::metrics::HistogramFamily& latency;          // direction, destination
  weft::metrics::CounterFamily& retries;            // destination
  weft::metrics::CounterFamily& budgetExhausted;    // destination
  weft::metrics::CounterFamily& ejections;          // destination
  weft::metrics::CounterFamily& breakerRejections;  // destination, limit
  weft::metrics::CounterFamily& errors;             // reason
  std::array<Counter*, static_cast<std::size_t>(ErrorReason::kCount)> errorByReason{};
  weft::metrics::GaugeFamily& tcpOpen;          // direction
  weft::metrics::CounterFamily& tcpTotal;       // direction
  weft::metrics::CounterFamily& tcpBytes;       // direction, flow (to_upstream|to_client)
  weft::metrics::CounterFamily& tlsHandshakes;  // direction, result
  weft::metrics::CounterFamily& peerRequests;   // peer identity (capped), inbound HTTP
  weft::metrics::CounterFamily& authzDenied;    // protocol (http|tcp)
  Gauge& certificateExpiry;                     // unix seconds; 0 = none yet
  Counter& detectTimeouts;
  Gauge& httpActive;
  Counter& configReloads;
  Counter& configReloadFailures;
  Gauge& ready;
};

// Series of one destination on one worker, cached so a request costs a map
// lookup at most and never a lock.
struct DestinationSeries {
  DestinationSeries(ProxyMetrics& m, const std::string& direction, const std::string& destination);
  Counter& byStatus(unsigned status);

  ProxyMetrics& m;
  std::string direction;
  std::string destination;
  Histogram& latency;
  Counter& retries;
  Counter& budgetExhausted;
  Counter& ejections;
  Counter& rejectedConnections;  // circuit breaker, by limit
  Counter& rejectedPending;
  Counter& rejectedRequests;
  std::array<Counter*, 600> status{};
};

class SeriesCache {
 public:
  explicit SeriesCache(ProxyMetrics& m) : m_(m) {}
  DestinationSeries& get(bool inbound, const std::string& destination);

 private:
  ProxyMetrics& m_;
  std::unordered_map<std::string, std::unique_ptr<DestinationSeries>> out_;
  std::unordered_map<std::string, std::unique_ptr<DestinationSeries>> in_;
};

}  // namespace weft::proxy::metrics
