// OutlierDetector: consecutive-failure ejection with growing ejection times and single probes.
#include "proxy/src/resilience/outlier_detector.h"

#include <algorithm>
#include <unordered_set>

namespace weft::proxy::resilience {

Result<void> validate(const OutlierSettings& settings) {
  if (settings.consecutiveFailures > 1000) {
    return makeError(ErrorCode::kInvalidArgument,
                     "outlierDetection.consecutiveFailures must be at most 1000");
  }
  if (settings.baseEjection <= Clock::Duration::zero()) {
    return makeError(ErrorCode::kInvalidArgument, "outlierDetection.baseEjection must be positive");
  }
  if (settings.maxEjection < settings.baseEjection) {
    return makeError(ErrorCode::kInvalidArgument,
                     "outlierDetection.maxEjection must be at least baseEjection");
  }
  if (settings.maxEjectionPercent > 100) {
    return makeError(ErrorCode::kInvalidArgument,
                     "outlierDetection.maxEjectionPercent must be within [0, 100]");
  }
  return okResult();
}

OutlierDetector::OutlierDetector(OutlierSettings settings, const Clock& clock) : clock_(&clock) {
  setSettings(settings);
}

void OutlierDetector::setSettings(const OutlierSettings& settings) {
  settings_ = settings;
  // Unvalidated settings are clamped rather than trusted.
  settings_.baseEjection =
      std::max<Clock::Duration>(settings_.baseEjection, std::chrono::milliseconds(1));
  settings_.maxEjection = std::max(settings_.maxEjection, settings_.baseEjection);
  settings_.maxEjectionPercent = std::min<std::uint32_t>(settings_.maxEjectionPercent, 100);
}

void OutlierDetector::update(std::span<const std::string> addresses) {
  std::unordered_set<std::string> wanted(addresses.begin(), addresses.end());
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (wanted.count(it->first) == 0) {
      if (it->second.state != State::kHealthy) {
        --ejected_;
      }
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& address : wanted) {
    entries_.try_emplace(address, Entry{State::kHealthy, 0, 0, {}, clock_->now(), false});
  }
}

OutlierDetector::Admission OutlierDetector::admit(const std::string& address) {
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    return Admission::kYes;
  }
  Entry& entry = it->second;
  switch (entry.state) {
    case State::kHealthy:
      return Admission::kYes;
    case State::kEjected:
      if (clock_->now() < entry.until) {
        return Admission::kNo;
      }
      entry.state = State::kProbing;
      entry.probeInFlight = false;
      return Admission::kProbe;
    case State::kProbing:
      return entry.probeInFlight ? Admission::kNo : Admission::kProbe;
  }
  return Admission::kNo;
}

bool OutlierDetector::startProbe(const std::string& address) {
  auto it = entries_.find(address);
  if (it == entries_.end() || it->second.state != State::kProbing || it->second.probeInFlight) {
    return false;
  }
  it->second.probeInFlight = true;
  return true;
}

void OutlierDetector::onSuccess(const std::string& address, bool probe) {
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    return;
  }
  Entry& entry = it->second;
  if (entry.state == State::kHealthy) {
    entry.consecutiveFailures = 0;
    return;
  }
  // Late results of requests sent before the ejection say nothing about now.
  if (probe && entry.state == State::kProbing) {
    entry.state = State::kHealthy;
    entry.probeInFlight = false;
    entry.consecutiveFailures = 0;
    entry.healthySince = clock_->now();
    --ejected_;
  }
}

void OutlierDetector::onFailure(const std::string& address, bool probe) {
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    return;
  }
  Entry& entry = it->second;
  if (entry.state != State::kHealthy) {
    if (probe && entry.state == State::kProbing) {
      eject(entry, /*alreadyCounted=*/true);
    }
    return;
  }
  ++entry.consecutiveFailures;
  if (settings_.consecutiveFailures == 0 ||
      entry.consecutiveFailures < settings_.consecutiveFailures) {
    return;
  }
  // Integer form of (ejected + 1) / size <= percent / 100.
  if ((ejected_ + 1) * 100 > entries_.size() * settings_.maxEjectionPercent) {
    return;
  }
  eject(entry, /*alreadyCounted=*/false);
}

void OutlierDetector::onProbeCancelled(const std::string& address) {
  auto it = entries_.find(address);
  if (it != entries_.end() && it->second.state == State::kProbing) {
    it->second.probeInFlight = false;
  }
}

void OutlierDetector::eject(Entry& entry, bool alreadyCounted) {
  const auto now = clock_->now();
  if (!alreadyCounted) {
    // Forgive one ejection per baseEjection spent healthy since the last return.
    const auto healthyFor = now - entry.healthySince;
    const auto forgiven = static_cast<std::uint64_t>(healthyFor / settings_.baseEjection);
    entry.timesEjected = forgiven >= entry.timesEjected
                             ? 0
                             : entry.timesEjected - static_cast<std::uint32_t>(forgiven);
    ++ejected_;
  }
  entry.timesEjected = std::min<std::uint32_t>(entry.timesEjected + 1, 1'000'000);
  // base * times, capped; compared in the quotient so the product never overflows.
  const auto maxTimes = static_cast<std::uint64_t>(settings_.maxEjection / settings_.baseEjection);
  const auto duration = entry.timesEjected >= maxTimes
                            ? settings_.maxEjection
                            : settings_.baseEjection * static_cast<int>(entry.timesEjected);
  entry.state = State::kEjected;
  entry.until = now + std::min(duration, settings_.maxEjection);
  entry.probeInFlight = false;
  entry.consecutiveFailures = 0;
  ++ejectionsTotal_;
}

bool OutlierDetector::isEjected(const std::string& address) const {
  auto it = entries_.find(address);
  return it != entries_.end() && it->second.state != State::kHealthy;
}

Clock::TimePoint OutlierDetector::ejectedUntil(const std::string& address) const {
  auto it = entries_.find(address);
  if (it == entries_.end() || it->second.state == State::kHealthy) {
    return {};
  }
  return it->second.until;
}

}  // namespace weft::proxy::resilience
