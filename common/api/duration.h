// Durations in Go's format restricted to h, m, s and ms ("1m30s", "250ms"), at millisecond
// precision.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace weft::api {

using Duration = std::chrono::milliseconds;

// Largest accepted duration (10000h): bounds arithmetic on deadlines.
inline constexpr Duration kMaxDuration = std::chrono::hours(10000);

// Parses "1h", "1m30s", "250ms", "1.5s", "0" (zero needs no unit). Refuses an
// empty string, negative values, other units, sub-millisecond precision and
// values above kMaxDuration; the error says which.
Result<Duration> parseDuration(std::string_view text);

// The shortest form parseDuration reads back to the same value: "1m30s",
// "250ms", "1s500ms", "0s".
std::string formatDuration(Duration d);

}  // namespace weft::api
