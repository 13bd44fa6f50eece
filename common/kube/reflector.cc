// Reflector loop: list, watch, resume, relist on 410, back off on errors.
#include "common/kube/reflector.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace weft::kube {

Reflector::Reflector(KubeApi& api, ReflectorOptions options, ReflectorHandler handler)
    : api_(api), options_(std::move(options)), handler_(std::move(handler)) {}

std::string Reflector::lastResourceVersion() const {
  std::lock_guard lock(mu_);
  return lastRv_;
}

std::chrono::nanoseconds Reflector::nextBackoff(int failures) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double base =
      static_cast<double>(options_.initialBackoff.count()) * std::pow(2.0, std::min(failures, 30));
  base = std::min(base, static_cast<double>(options_.maxBackoff.count()));
  std::uniform_real_distribution<double> dist(1.0, 1.0 + std::max(0.0, options_.jitter));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(base * dist(rng) * 1e6));
}

void Reflector::run(StopSignal& stop) {
  int failures = 0;
  auto fail = [&](const Error& error) {
    if (handler_.error) {
      handler_.error(error);
    }
    stop.waitFor(nextBackoff(failures++));
  };
  while (!stop.stopped()) {
    ListOptions listOptions;
    listOptions.labelSelector = options_.labelSelector;
    listOptions.limit = options_.pageSize;
    auto listed = listAll(api_, options_.resource, options_.ns, listOptions);
    if (!listed.ok()) {
      fail(listed.error());
      continue;
    }
    ++lists_;
    std::string rv = listed->resourceVersion;
    {
      std::lock_guard lock(mu_);
      lastRv_ = rv;
    }
    handler_.replace(std::move(listed->items), rv);
    failures = 0;

    // Watch until the history we need is gone (410) or we are stopped.
    while (!stop.stopped()) {
      WatchOptions watchOptions;
      watchOptions.resourceVersion = rv;
      watchOptions.labelSelector = options_.labelSelector;
      watchOptions.timeoutSeconds = options_.watchTimeoutSeconds;
      watchOptions.allowBookmarks = true;
      std::size_t events = 0;
      auto started = std::chrono::steady_clock::now();
      auto result = api_.watch(
          options_.resource, options_.ns, watchOptions,
          [&](WatchEvent&& event) {
            ++events;
            std::string eventRv = resourceVersionOf(event.object);
            if (!eventRv.empty()) {
              rv = eventRv;
              std::lock_guard lock(mu_);
              lastRv_ = rv;
            }
            if (event.type != WatchEventType::kBookmark) {
              handler_.event(std::move(event));
            }
          },
          stop);
      if (stop.stopped()) {
        return;
      }
      ++watchRestarts_;
      if (!result.ok()) {
        if (isExpired(result.error())) {
          break;  // relist
        }
        fail(result.error());
        continue;
      }
      // A stream the server ended at once and empty is suspicious (a proxy
      // cutting it): back off rather than spin.
      if (events == 0 && std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
        stop.waitFor(nextBackoff(failures++));
      } else {
        failures = 0;
      }
    }
  }
}

}  // namespace weft::kube
