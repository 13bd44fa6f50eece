// RFC 3339 timestamps in UTC, second precision like metav1.Time.
#include "operator/src/status/clock.h"

#include <ctime>

namespace weft::op::status {

std::string rfc3339(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace weft::op::status
