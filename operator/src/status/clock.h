// Wall-clock time for status fields, injectable so tests can pin it.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace weft::op::status {

using Clock = std::function<std::chrono::system_clock::time_point()>;

inline Clock systemClock() {
  return [] { return std::chrono::system_clock::now(); };
}

// "2026-01-02T03:04:05Z", the form Kubernetes uses for timestamps.
std::string rfc3339(std::chrono::system_clock::time_point time);

}  // namespace weft::op::status
