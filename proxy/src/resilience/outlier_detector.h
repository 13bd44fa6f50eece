// OutlierDetector: ejects failing endpoints, probes them back, caps the share ejected.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"

namespace weft::proxy::resilience {

// Maps policy.outlierDetection in docs/api.md: {consecutiveFailures: 5,
// baseEjection: 30s, maxEjectionPercent: 50}. maxEjection is not in the
// document: Envoy's default cap of 300 s.
struct OutlierSettings {
  std::uint32_t consecutiveFailures = 5;  // 0 turns ejection off
  Clock::Duration baseEjection = std::chrono::seconds(30);
  Clock::Duration maxEjection = std::chrono::seconds(300);
  std::uint32_t maxEjectionPercent = 50;  // of the endpoints currently known
};

// consecutiveFailures <= 1000, baseEjection > 0, maxEjection >= baseEjection,
// maxEjectionPercent <= 100.
Result<void> validate(const OutlierSettings& settings);

// Per endpoint, keyed by address:
//   healthy --N consecutive failures--> ejected for min(base * times, max)
//   ejected --time passes--> probing: exactly one request is let through
//   probing --probe succeeds--> healthy;  --probe fails--> ejected, longer
// A failure is what the caller reports (connect errors and 5xx). An ejection
// that would put more than maxEjectionPercent of the endpoints out is skipped
// (the endpoint stays eligible and the next failure tries again).
// Times ejected fall by one for every baseEjection spent healthy, so an
// endpoint that recovered for good starts again from baseEjection.
// One per destination and worker; not thread-safe.
class OutlierDetector {
 public:
  OutlierDetector(OutlierSettings settings, const Clock& clock);

  // Takes effect for future ejections; current ones keep their deadline.
  void setSettings(const OutlierSettings& settings);
  const OutlierSettings& settings() const { return settings_; }

  // Replaces the known endpoints: state is kept for addresses still present,
  // new ones start healthy, missing ones are forgotten.
  void update(std::span<const std::string> addresses);

  enum class Admission {
    kYes,    // healthy
    kProbe,  // ejection over, no probe in flight: may take one request as the probe
    kNo,     // ejected, or its probe is in flight
  };
  // Whether the endpoint may take a new request now. Unknown addresses: kYes.
  Admission admit(const std::string& address);
  // The balancer picked an endpoint admitted as kProbe: no other request until
  // the probe's result is in. Returns false when it was not probing.
  bool startProbe(const std::string& address);

  // Results. `probe` is true for the request startProbe() was called for.
  void onSuccess(const std::string& address, bool probe = false);
  void onFailure(const std::string& address, bool probe = false);
  // The probe ended with no verdict (cancelled): let another one through.
  void onProbeCancelled(const std::string& address);

  bool isEjected(const std::string& address) const;  // ejected or probing
  std::size_t ejectedCount() const { return ejected_; }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t ejectionsTotal() const { return ejectionsTotal_; }  // for weft_ejections_total
  // When the current ejection ends (time_point{} when not ejected).
  Clock::TimePoint ejectedUntil(const std::string& address) const;

 private:
  enum class State { kHealthy, kEjected, kProbing };
  struct Entry {
    State state = State::kHealthy;
    std::uint32_t consecutiveFailures = 0;
    std::uint32_t timesEjected = 0;
    Clock::TimePoint until{};         // end of the ejection
    Clock::TimePoint healthySince{};  // last return to healthy
    bool probeInFlight = false;
  };

  void eject(Entry& entry, bool alreadyCounted);

  OutlierSettings settings_;
  const Clock* clock_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t ejected_ = 0;  // entries in kEjected or kProbing
  std::uint64_t ejectionsTotal_ = 0;
};

}  // namespace weft::proxy::resilience
