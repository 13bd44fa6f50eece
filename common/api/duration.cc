// Go-style duration parsing and formatting.
#include "common/api/duration.h"

#include <cstdint>

namespace weft::api {
namespace {

Error bad(std::string_view text, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid duration \"" + std::string(text) + "\": " + why);
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  if (text.empty()) {
    return bad(text, "empty");
  }
  if (text == "0") {
    return Duration::zero();
  }
  if (text.size() > 64) {
    return bad(text.substr(0, 64), "too long");
  }
  // Everything is computed in microseconds so that "1.5ms" can be refused
  // for its precision rather than silently truncated.
  constexpr std::int64_t kMaxMicros =
      std::chrono::duration_cast<std::chrono::microseconds>(kMaxDuration).count();
  std::int64_t totalMicros = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t whole = 0;
    std::size_t start = i;
    while (i < text.size() && isDigit(text[i])) {
      if (whole > kMaxMicros) {
        return bad(text, "too large (at most 10000h)");
      }
      whole = whole * 10 + (text[i] - '0');
      ++i;
    }
    bool hasWhole = i > start;
    std::int64_t frac = 0;
    std::int64_t fracScale = 1;
    bool hasFrac = false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && isDigit(text[i])) {
        hasFrac = true;
        if (fracScale < 1'000'000'000) {
          frac = frac * 10 + (text[i] - '0');
          fracScale *= 10;
        } else if (text[i] != '0') {
          return bad(text, "finer than 1ms");
        }
        ++i;
      }
    }
    if (!hasWhole && !hasFrac) {
      return bad(text, "expected a number at offset " + std::to_string(start));
    }
    std::size_t unitStart = i;
    while (i < text.size() && !isDigit(text[i]) && text[i] != '.') {
      ++i;
    }
    std::string_view unit = text.substr(unitStart, i - unitStart);
    std::int64_t unitMicros = 0;
    if (unit == "h") {
      unitMicros = 3'600'000'000;
    } else if (unit == "m") {
      unitMicros = 60'000'000;
    } else if (unit == "s") {
      unitMicros = 1'000'000;
    } else if (unit == "ms") {
      unitMicros = 1'000;
    } else if (unit.empty()) {
      return bad(text, "missing unit (h, m, s or ms)");
    } else {
      return bad(text, "unknown unit \"" + std::string(unit) + "\" (h, m, s or ms)");
    }
    if (whole > kMaxMicros / unitMicros + 1) {
      return bad(text, "too large (at most 10000h)");
    }
    // frac < fracScale <= 1e9 and unitMicros <= 3.6e9: the product fits in 63 bits.
    const std::int64_t fracProduct = frac * unitMicros;
    if (fracProduct % fracScale != 0) {
      return bad(text, "finer than 1ms");
    }
    const std::int64_t fracMicros = fracProduct / fracScale;
    totalMicros += whole * unitMicros + fracMicros;
    if (totalMicros > kMaxMicros) {
      return bad(text, "too large (at most 10000h)");
    }
  }
  if (totalMicros % 1000 != 0) {
    return bad(text, "finer than 1ms");
  }
  return Duration(totalMicros / 1000);
}

std::string formatDuration(Duration d) {
  if (d <= Duration::zero()) {
    return "0s";
  }
  std::int64_t ms = d.count();
  std::string out;
  const std::int64_t h = ms / 3'600'000;
  ms %= 3'600'000;
  const std::int64_t m = ms / 60'000;
  ms %= 60'000;
  const std::int64_t s = ms / 1000;
  ms %= 1000;
  if (h > 0) {
    out += std::to_string(h) + "h";
  }
  if (m > 0) {
    out += std::to_string(m) + "m";
  }
  if (s > 0) {
    out += std::to_string(s) + "s";
  }
  if (ms > 0) {
    out += std::to_string(ms) + "ms";
  }
  return out;
}

}  // namespace weft::api
