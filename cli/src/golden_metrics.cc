// Rates, success, quantiles and mTLS share from counter increases.
#include "cli/src/golden_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>

namespace weft::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::optional<double> parseBound(const std::string& le) {
  if (le == "+Inf" || le == "Inf") {
    return kInf;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(le.data(), le.data() + le.size(), v);
  if (le.empty() || ec != std::errc() || end != le.data() + le.size()) {
    return std::nullopt;
  }
  return v;
}

std::optional<double> share(double part, double whole) {
  return whole > 0 ? std::optional<double>(part / whole) : std::nullopt;
}

Traffic traffic(const std::vector<Sample>& increases, const std::string& direction,
                double seconds) {
  Traffic t;
  std::map<double, double> buckets;  // le -> cumulative count, summed over destinations
  for (const auto& s : increases) {
    if (s.label("direction") != direction || !std::isfinite(s.value)) {
      continue;
    }
    if (s.name == "weft_requests_total") {
      t.requests += s.value;
      const std::string& code = s.label("code");
      if (code.size() == 3 && code[0] == '5') {
        t.serverErrors += s.value;
      }
    } else if (s.name == "weft_request_duration_seconds_bucket") {
      if (auto le = parseBound(s.label("le"))) {
        buckets[*le] += s.value;
      }
    }
  }
  t.rps = seconds > 0 ? t.requests / seconds : 0;
  if (auto ok = share(t.requests - t.serverErrors, t.requests)) {
    t.successRate = ok;
  }
  std::vector<Bucket> cumulative;
  for (const auto& [le, count] : buckets) {
    cumulative.push_back({le, count});
  }
  t.p50 = quantileFromBuckets(0.5, cumulative);
  t.p99 = quantileFromBuckets(0.99, cumulative);
  return t;
}

}  // namespace

std::vector<Sample> increase(const std::vector<Sample>& before, const std::vector<Sample>& after) {
  std::unordered_map<std::string, double> previous;
  for (const auto& s : before) {
    previous[s.key()] = s.value;
  }
  std::vector<Sample> out;
  out.reserve(after.size());
  for (const auto& s : after) {
    Sample d = s;
    auto it = previous.find(s.key());
    if (it != previous.end() && s.value >= it->second) {
      d.value = s.value - it->second;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<double> quantileFromBuckets(double q, std::vector<Bucket> buckets) {
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.le < b.le; });
  // Counts are cumulative; a scrape taken mid-update may dip, so keep them monotonic.
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    buckets[i].count = std::max(buckets[i].count, buckets[i - 1].count);
  }
  if (buckets.empty() || buckets.back().count <= 0 || std::isnan(q)) {
    return std::nullopt;
  }
  const double rank = std::clamp(q, 0.0, 1.0) * buckets.back().count;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i].count < rank) {
      continue;
    }
    double lower = i == 0 ? 0 : buckets[i - 1].le;
    double below = i == 0 ? 0 : buckets[i - 1].count;
    if (std::isinf(buckets[i].le)) {
      return i == 0 ? std::nullopt : std::optional<double>(lower);
    }
    if (buckets[i].count == below) {
      return buckets[i].le;
    }
    return lower + (buckets[i].le - lower) * (rank - below) / (buckets[i].count - below);
  }
  return std::nullopt;
}

Golden golden(const std::vector<Sample>& increases, double seconds) {
  Golden g;
  g.inbound = traffic(increases, "inbound", seconds);
  g.outbound = traffic(increases, "outbound", seconds);
  double all = 0;
  double withPeer = 0;
  for (const auto& s : increases) {
    if (s.name == "weft_inbound_requests_by_peer_total" && std::isfinite(s.value)) {
      all += s.value;
      withPeer += s.label("peer").empty() ? 0 : s.value;
    }
  }
  g.mtlsShare = share(withPeer, all);
  return g;
}

}  // namespace weft::cli
