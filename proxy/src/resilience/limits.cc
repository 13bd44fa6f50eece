// Limits: counters shared with their guards.
#include "proxy/src/resilience/limits.h"

#include <utility>

namespace weft::proxy::resilience {

struct LimitGuard::Counters {
  std::array<std::uint32_t, 3> current{};
};

namespace {

std::size_t slot(LimitKind kind) { return static_cast<std::size_t>(kind); }

}  // namespace

Result<void> validate(const LimitSettings& settings) {
  if (settings.maxConnections < 1 || settings.maxPendingRequests < 1 || settings.maxRequests < 1) {
    return makeError(ErrorCode::kInvalidArgument,
                     "circuitBreaker limits must be at least 1 (0 would refuse everything)");
  }
  return okResult();
}

LimitGuard::LimitGuard(std::shared_ptr<Counters> counters, LimitKind kind)
    : counters_(std::move(counters)), kind_(kind) {}

LimitGuard::LimitGuard(LimitGuard&& other) noexcept
    : counters_(std::move(other.counters_)), kind_(other.kind_) {}

LimitGuard& LimitGuard::operator=(LimitGuard&& other) noexcept {
  if (this != &other) {
    release();
    counters_ = std::move(other.counters_);
    kind_ = other.kind_;
  }
  return *this;
}

LimitGuard::~LimitGuard() { release(); }

void LimitGuard::release() {
  if (counters_) {
    --counters_->current[slot(kind_)];
    counters_.reset();
  }
}

Limits::Limits(LimitSettings settings)
    : settings_(settings), counters_(std::make_shared<LimitGuard::Counters>()) {}

void Limits::setSettings(const LimitSettings& settings) { settings_ = settings; }

std::int64_t Limits::max(LimitKind kind) const {
  switch (kind) {
    case LimitKind::kConnections:
      return settings_.maxConnections;
    case LimitKind::kPendingRequests:
      return settings_.maxPendingRequests;
    case LimitKind::kRequests:
      return settings_.maxRequests;
  }
  return 0;
}

std::optional<LimitGuard> Limits::tryAcquire(LimitKind kind) {
  auto& current = counters_->current[slot(kind)];
  if (static_cast<std::int64_t>(current) >= max(kind)) {
    ++rejected_[slot(kind)];
    return std::nullopt;
  }
  ++current;
  return LimitGuard(counters_, kind);
}

std::uint32_t Limits::current(LimitKind kind) const { return counters_->current[slot(kind)]; }

std::uint64_t Limits::rejected(LimitKind kind) const { return rejected_[slot(kind)]; }

}  // namespace weft::proxy::resilience
