// KubeSource: reflector threads feeding the Sink.
#include "operator/src/source/kube_source.h"

#include <nlohmann/json.hpp>

#include "common/log/log.h"

namespace weft::op::source {

kube::Resource resourceOf(Kind kind) {
  namespace r = kube::resources;
  switch (kind) {
    case Kind::kMesh:
      return r::meshes();
    case Kind::kTrafficPolicy:
      return r::trafficPolicies();
    case Kind::kTrafficRoute:
      return r::trafficRoutes();
    case Kind::kAccessPolicy:
      return r::accessPolicies();
    case Kind::kService:
      return r::services();
    case Kind::kEndpointSlice:
      return r::endpointSlices();
    case Kind::kPod:
      return r::pods();
    case Kind::kNamespace:
      return r::namespaces();
  }
  return r::pods();
}

struct KubeSource::Watcher {
  Kind kind;
  std::unique_ptr<kube::Reflector> reflector;
  std::thread thread;
  bool listed = false;
};

KubeSource::KubeSource(std::shared_ptr<kube::KubeApi> api, KubeSourceOptions options)
    : api_(std::move(api)), options_(std::move(options)) {}

KubeSource::~KubeSource() { stop(); }

Result<void> KubeSource::start(Sink& sink) {
  if (started_) {
    return makeError(ErrorCode::kInternal, "kube source started twice");
  }
  if (options_.kinds.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "kube source: no kinds to watch");
  }
  started_ = true;
  auto logger = log::get("operator.source");
  for (Kind kind : options_.kinds) {
    auto watcher = std::make_unique<Watcher>();
    watcher->kind = kind;
    kube::ReflectorOptions ro;
    ro.resource = resourceOf(kind);
    ro.ns = isClusterScoped(kind) ? "" : options_.ns;
    ro.pageSize = options_.pageSize;
    ro.watchTimeoutSeconds = options_.watchTimeoutSeconds;
    ro.initialBackoff = options_.initialBackoff;
    ro.maxBackoff = options_.maxBackoff;
    Watcher* w = watcher.get();
    kube::ReflectorHandler handler{
        [this, &sink, w, logger](std::vector<nlohmann::json>&& items, const std::string& rv) {
          std::vector<ObjectPtr> objects;
          objects.reserve(items.size());
          for (auto& item : items) {
            objects.push_back(std::make_shared<const nlohmann::json>(std::move(item)));
          }
          logger->debug("listed {} {} at resourceVersion {}", objects.size(), kindName(w->kind),
                        rv);
          sink.replace(w->kind, std::move(objects));
          {
            std::lock_guard lock(mu_);
            lastError_[w->kind].clear();
          }
          if (!w->listed) {
            w->listed = true;
            if (++listedKinds_ == options_.kinds.size()) {
              logger->info("caches synced: {} kinds listed", options_.kinds.size());
              sink.synced();
            }
          }
        },
        [&sink, w](kube::WatchEvent&& event) {
          if (event.type == kube::WatchEventType::kDeleted) {
            sink.remove(w->kind, keyOf(event.object));
          } else {
            sink.upsert(w->kind, std::make_shared<const nlohmann::json>(std::move(event.object)));
          }
        },
        [this, w, logger](const Error& error) {
          ++errors_;
          std::string text = error.describe();
          bool repeated;
          {
            std::lock_guard lock(mu_);
            repeated = lastError_[w->kind] == text;
            lastError_[w->kind] = text;
          }
          // Log each new problem once, not every retry; RBAC gets a hint.
          if (repeated) {
            logger->debug("{}: {}", kindName(w->kind), text);
          } else if (error.code == ErrorCode::kPermissionDenied) {
            logger->error("cannot read {}: {} (check the operator's RBAC); serving what is cached",
                          kindName(w->kind), text);
          } else {
            logger->warn("{} list/watch failed, retrying: {}", kindName(w->kind), text);
          }
        }};
    watcher->reflector = std::make_unique<kube::Reflector>(*api_, ro, std::move(handler));
    watchers_.push_back(std::move(watcher));
  }
  for (auto& watcher : watchers_) {
    watcher->thread = std::thread([this, w = watcher.get()] { w->reflector->run(stop_); });
  }
  return okResult();
}

void KubeSource::stop() {
  stop_.stop();
  for (auto& watcher : watchers_) {
    if (watcher->thread.joinable()) {
      watcher->thread.join();
    }
  }
}

std::uint64_t KubeSource::relists() const {
  std::uint64_t total = 0;
  for (const auto& w : watchers_) {
    total += w->reflector->lists();
  }
  return total;
}

std::uint64_t KubeSource::watchRestarts() const {
  std::uint64_t total = 0;
  for (const auto& w : watchers_) {
    total += w->reflector->watchRestarts();
  }
  return total;
}

std::string KubeSource::lastError(Kind kind) const {
  std::lock_guard lock(mu_);
  auto it = lastError_.find(kind);
  return it == lastError_.end() ? "" : it->second;
}

}  // namespace weft::op::source
