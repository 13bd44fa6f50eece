// Pod-annotation overrides of the injected proxy (config.weft.io/*), parsed and
// validated as a whole so that a bad value refuses the pod before anything changes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace weft::webhook::inject {

inline constexpr std::string_view kCpuRequestAnnotation = "config.weft.io/proxy-cpu-request";
inline constexpr std::string_view kCpuLimitAnnotation = "config.weft.io/proxy-cpu-limit";
inline constexpr std::string_view kMemoryRequestAnnotation = "config.weft.io/proxy-memory-request";
inline constexpr std::string_view kMemoryLimitAnnotation = "config.weft.io/proxy-memory-limit";
inline constexpr std::string_view kSkipInboundPortsAnnotation = "config.weft.io/skip-inbound-ports";
inline constexpr std::string_view kSkipOutboundPortsAnnotation =
    "config.weft.io/skip-outbound-ports";
inline constexpr std::string_view kSkipOutboundCidrsAnnotation =
    "config.weft.io/skip-outbound-cidrs";
inline constexpr std::string_view kLogLevelAnnotation = "config.weft.io/proxy-log-level";

// A Kubernetes resource quantity ("100m", "1.5Gi", "2e3"), kept as typed plus
// its approximate value, which is enough to compare a request with a limit.
struct Quantity {
  std::string text;
  long double value = 0;
};

// Parses a non-negative Kubernetes quantity; the error says what was wrong.
Result<Quantity> parseQuantity(std::string_view text);

// "8080, 9000-9100" -> "8080,9000-9100": ports and inclusive ranges in 1..65535.
Result<std::string> parsePortList(std::string_view text);

// "10.0.0.0/8, fd00::/8" -> "10.0.0.0/8,fd00::/8": IPv4/IPv6 CIDRs (a bare
// address means a single host).
Result<std::string> parseCidrList(std::string_view text);

// Everything the annotations asked for; unset fields keep the injector's defaults.
struct Overrides {
  std::optional<Quantity> cpuRequest;
  std::optional<Quantity> cpuLimit;
  std::optional<Quantity> memoryRequest;
  std::optional<Quantity> memoryLimit;
  std::string skipInboundPorts;   // normalized, empty = none
  std::string skipOutboundPorts;  // normalized, empty = none
  std::string skipOutboundCidrs;  // normalized, empty = none
  std::optional<std::string> logLevel;
};

// Reads every override annotation. The error names the annotation, the value
// and the accepted form; several bad annotations are reported together.
Result<Overrides> parseOverrides(const std::map<std::string, std::string>& annotations);

}  // namespace weft::webhook::inject
