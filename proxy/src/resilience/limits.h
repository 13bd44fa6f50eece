// Limits: per-destination caps on connections, pending and active requests, with RAII guards.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/result.h"

namespace weft::proxy::resilience {

// Maps policy.circuitBreaker in docs/api.md: {maxConnections: 100000,
// maxPendingRequests: 100000, maxRequests: 100000}. Generous on purpose: low
// limits turn ordinary churn into 503s. The counts are per Limits object; a
// caller with one per worker divides the configured values by the workers.
struct LimitSettings {
  std::int64_t maxConnections = 100000;
  std::int64_t maxPendingRequests = 100000;  // waiting for a connection or an endpoint
  std::int64_t maxRequests = 100000;         // in flight to the destination
};

// Every limit at least 1 (0 would refuse everything).
Result<void> validate(const LimitSettings& settings);

enum class LimitKind { kConnections = 0, kPendingRequests = 1, kRequests = 2 };

class Limits;

// Holds one unit of a limit until destroyed or released. Move-only. Safe to
// outlive its Limits (the counters are shared), so a request that started
// under an old config snapshot releases cleanly.
class LimitGuard {
 public:
  LimitGuard(LimitGuard&& other) noexcept;
  LimitGuard& operator=(LimitGuard&& other) noexcept;
  LimitGuard(const LimitGuard&) = delete;
  LimitGuard& operator=(const LimitGuard&) = delete;
  ~LimitGuard();

  void release();
  LimitKind kind() const { return kind_; }

 private:
  friend class Limits;
  struct Counters;
  LimitGuard(std::shared_ptr<Counters> counters, LimitKind kind);

  std::shared_ptr<Counters> counters_;
  LimitKind kind_;
};

// One per destination (and worker); not thread-safe. A refusal means the
// caller answers 503 with weft-error `overloaded`.
class Limits {
 public:
  explicit Limits(LimitSettings settings = {});

  // Lowering a limit never revokes held guards; new ones wait until below it.
  void setSettings(const LimitSettings& settings);
  const LimitSettings& settings() const { return settings_; }

  // A guard, or nullopt when the limit is reached (counted as a rejection).
  std::optional<LimitGuard> tryAcquire(LimitKind kind);

  std::uint32_t current(LimitKind kind) const;
  std::uint64_t rejected(LimitKind kind) const;  // for weft circuit-breaker metrics

 private:
  std::int64_t max(LimitKind kind) const;

  LimitSettings settings_;
  std::shared_ptr<LimitGuard::Counters> counters_;
  std::array<std::uint64_t, 3> rejected_{};
};

}  // namespace weft::proxy::resilience
