// LeaderElector: get/create/update of the Lease, renew loop, release on stop.
#include "common/kube/leader_election.h"

#include <ctime>

namespace weft::kube {
namespace {

// metav1.MicroTime: RFC 3339 with microseconds.
std::string microTimeNow() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

std::string specString(const Json& lease, const char* field) {
  if (lease.contains("spec") && lease["spec"].is_object() && lease["spec"].contains(field) &&
      lease["spec"][field].is_string()) {
    return lease["spec"][field].get<std::string>();
  }
  return "";
}

}  // namespace

LeaderElector::LeaderElector(KubeApi& api, LeaderElectionOptions options,
                             std::function<void()> onStartedLeading,
                             std::function<void()> onStoppedLeading)
    : api_(api),
      options_(std::move(options)),
      onStarted_(std::move(onStartedLeading)),
      onStopped_(std::move(onStoppedLeading)) {}

Result<bool> LeaderElector::tryAcquireOrRenew(Clock::time_point now) {
  const auto durationSeconds = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.leaseDuration).count());
  auto current = api_.get(resources::leases(), options_.ns, options_.name);
  if (!current.ok()) {
    if (!isNotFound(current.error())) {
      return current.error();
    }
    std::string time = microTimeNow();
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", durationSeconds},
                    {"acquireTime", time},
                    {"renewTime", time},
                    {"leaseTransitions", 0}}}};
    auto created = api_.create(resources::leases(), options_.ns, lease);
    if (!created.ok()) {
      if (isAlreadyExists(created.error())) {
        return false;  // someone else was faster
      }
      return created.error();
    }
    std::lock_guard lock(mu_);
    observedRecord_ = resourceVersionOf(*created);
    observedAt_ = now;
    return true;
  }
  Json lease = *current;
  std::string holder = specString(lease, "holderIdentity");
  std::string record =
      holder + "|" + specString(lease, "renewTime") + "|" + resourceVersionOf(lease);
  {
    std::lock_guard lock(mu_);
    if (record != observedRecord_) {
      observedRecord_ = record;
      observedAt_ = now;
    }
    if (!holder.empty() && holder != options_.identity &&
        now < observedAt_ + options_.leaseDuration) {
      return false;
    }
  }
  std::string time = microTimeNow();
  if (!lease.contains("spec") || !lease["spec"].is_object()) {
    lease["spec"] = Json::object();
  }
  auto& spec = lease["spec"];
  if (holder != options_.identity) {
    spec["acquireTime"] = time;
    std::int64_t transitions =
        spec.contains("leaseTransitions") && spec["leaseTransitions"].is_number_integer()
            ? spec["leaseTransitions"].get<std::int64_t>()
            : 0;
    spec["leaseTransitions"] = transitions + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = durationSeconds;
  spec["renewTime"] = time;
  auto updated = api_.update(resources::leases(), lease);
  if (!updated.ok()) {
    if (isConflict(updated.error())) {
      return false;
    }
    return updated.error();
  }
  std::lock_guard lock(mu_);
  observedRecord_ = options_.identity + "|" + time + "|" + resourceVersionOf(*updated);
  observedAt_ = now;
  return true;
}

Result<void> LeaderElector::release() {
  auto result =
      updateWithRetry(api_, resources::leases(), options_.ns, options_.name, [&](Json& lease) {
        if (specString(lease, "holderIdentity") != options_.identity) {
          return false;
        }
        lease["spec"]["holderIdentity"] = "";
        lease["spec"]["leaseDurationSeconds"] = 1;
        lease["spec"]["renewTime"] = microTimeNow();
        return true;
      });
  if (!result.ok()) {
    return result.error();
  }
  return okResult();
}

void LeaderElector::run(StopSignal& stop) {
  auto lastRenew = Clock::now();
  while (!stop.stopped()) {
    auto now = Clock::now();
    auto held = tryAcquireOrRenew(now);
    bool ok = held.ok() && *held;
    if (ok) {
      lastRenew = now;
      if (!leader_.exchange(true) && onStarted_) {
        onStarted_();
      }
    } else if (leader_.load() &&
               (now - lastRenew >= options_.renewDeadline || (held.ok() && !*held))) {
      // Lost it (someone else holds it) or could not renew in time.
      leader_ = false;
      if (onStopped_) {
        onStopped_();
      }
    }
    stop.waitFor(options_.retryPeriod);
  }
  if (leader_.exchange(false)) {
    (void)release();
    if (onStopped_) {
      onStopped_();
    }
  }
}

}  // namespace weft::kube
