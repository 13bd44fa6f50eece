// Metric declarations of the proxy.
#include "proxy/src/metrics/proxy_metrics.h"

namespace weft::proxy::metrics {

const char* toString(ErrorReason r) {
  switch (r) {
    case ErrorReason::kNoEndpoints:
      return "no_endpoints";
    case ErrorReason::kAllEjected:
      return "all_ejected";
    case ErrorReason::kConnectTimeout:
      return "connect_timeout";
    case ErrorReason::kConnectRefused:
      return "connect_refused";
    case ErrorReason::kRequestTimeout:
      return "request_timeout";
    case ErrorReason::kOverloaded:
      return "overloaded";
    case ErrorReason::kRetryBudgetExhausted:
      return "retry_budget_exhausted";
    case ErrorReason::kBadRequest:
      return "bad_request";
    case ErrorReason::kUpstreamProtocolError:
      return "upstream_protocol_error";
    case ErrorReason::kHeaderTimeout:
      return "header_timeout";
    case ErrorReason::kNoRoute:
      return "no_route";
    case ErrorReason::kFaultInjected:
      return "fault_injected";
    case ErrorReason::kPlaintextRefused:
      return "plaintext_refused";
    case ErrorReason::kUpstreamTlsError:
      return "upstream_tls_error";
    case ErrorReason::kTlsIdentityMismatch:
      return "tls_identity_mismatch";
    case ErrorReason::kForbidden:
      return "forbidden";
    case ErrorReason::kCount:
      break;
  }
  return "unknown";
}

ProxyMetrics::ProxyMetrics(unsigned shards)
    : registry(shards),
      requests(registry.counter("weft_requests_total", "HTTP requests by response status",
                                {"direction", "destination", "code"}, 2000)),
      latency(registry.histogram("weft_request_duration_seconds",
                                 "HTTP request latency, first byte in to last byte out",
                                 weft::metrics::latencyBuckets(), {"direction", "destination"})),
      retries(registry.counter("weft_retries_total", "HTTP retries", {"destination"})),
      budgetExhausted(registry.counter("weft_retry_budget_exhausted_total",
                                       "retries refused by the retry budget", {"destination"})),
      ejections(registry.counter("weft_outlier_ejections_total",
                                 "endpoints ejected after consecutive failures", {"destination"})),
      breakerRejections(registry.counter("weft_circuit_breaker_rejections_total",
                                         "requests refused because a destination limit was reached",
                                         {"destination", "limit"})),
      errors(registry.counter("weft_proxy_errors_total",
                              "responses the proxy made itself, by weft-error reason", {"reason"})),
      tcpOpen(
          registry.gauge("weft_tcp_connections_open", "open client connections", {"direction"})),
      tcpTotal(registry.counter("weft_tcp_connections_total", "accepted client connections",
                                {"direction"})),
      tcpBytes(registry.counter("weft_tcp_bytes_total", "bytes forwarded as opaque TCP",
                                {"direction", "flow"})),
      tlsHandshakes(registry.counter("weft_tls_handshakes_total", "mTLS handshakes by result",
                                     {"direction", "result"})),
      // Identities come from the mesh's certificates, still capped: a
      // cluster with very many service accounts must not blow up a scrape.
      peerRequests(registry.counter("weft_inbound_requests_by_peer_total",
                                    "inbound HTTP requests by the caller's SPIFFE ID "
                                    "(\"\" = plaintext)",
                                    {"peer"}, 500)),
      authzDenied(registry.counter("weft_authz_denied_total",
                                   "inbound requests and connections refused by authorization",
                                   {"protocol"})),
      certificateExpiry(registry
                            .gauge("weft_identity_certificate_expiry_timestamp_seconds",
                                   "notAfter of the workload certificate, unix seconds")
                            .get()),
      detectTimeouts(registry
                         .counter("weft_protocol_detect_timeouts_total",
                                  "connections that sent nothing before the detection timeout")
                         .get()),
      httpActive(registry.gauge("weft_http_requests_active", "HTTP requests in flight").get()),
      configReloads(registry.counter("weft_config_reloads_total", "configurations applied").get()),
      configReloadFailures(registry
                               .counter("weft_config_reload_failures_total",
                                        "configurations refused (the old one stays)")
                               .get()),
      ready(registry.gauge("weft_ready", "1 when serving").get()) {
  for (std::size_t i = 0; i < errorByReason.size(); ++i) {
    errorByReason[i] = &errors.with({toString(static_cast<ErrorReason>(i))});
  }
}

DestinationSeries::DestinationSeries(ProxyMetrics& metrics, const std::string& dir,
                                     const std::string& dest)
    : m(metrics),
      direction(dir),
      destination(dest),
      latency(metrics.latency.with({dir, dest})),
      retries(metrics.retries.with({dest})),
      budgetExhausted(metrics.budgetExhausted.with({dest})),
      ejections(metrics.ejections.with({dest})),
      rejectedConnections(metrics.breakerRejections.with({dest, "connections"})),
      rejectedPending(metrics.breakerRejections.with({dest, "pending_requests"})),
      rejectedRequests(metrics.breakerRejections.with({dest, "requests"})) {}

Counter& DestinationSeries::byStatus(unsigned code) {
  if (code >= status.size()) {
    code = 0;
  }
  if (status[code] == nullptr) {
    status[code] = &m.requests.with({direction, destination, std::to_string(code)});
  }
  return *status[code];
}

DestinationSeries& SeriesCache::get(bool inbound, const std::string& destination) {
  auto& map = inbound ? in_ : out_;
  auto it = map.find(destination);
  if (it == map.end()) {
    it = map.emplace(destination, std::make_unique<DestinationSeries>(
                                      m_, inbound ? "inbound" : "outbound", destination))
             .first;
  }
  return *it->second;
}

}  // namespace weft::proxy::metrics
