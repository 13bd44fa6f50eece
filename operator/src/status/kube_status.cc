// KubeStatusWriter: a queue drained by one thread into the Kubernetes API.
#include "operator/src/status/kube_status.h"

#include "common/kube/kube_api.h"
#include "common/log/log.h"
#include "operator/src/source/kube_source.h"

namespace weft::op::status {

using json::Json;

KubeStatusWriter::KubeStatusWriter(std::shared_ptr<kube::KubeApi> api) : api_(std::move(api)) {
  thread_ = std::thread([this] { loop(); });
}

KubeStatusWriter::~KubeStatusWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void KubeStatusWriter::writeStatus(Kind kind, const std::string& key, const Json& status) {
  {
    std::lock_guard lock(mu_);
    statuses_[{static_cast<int>(kind), key}] = status;
  }
  cv_.notify_all();
}

void KubeStatusWriter::forget(Kind kind, const std::string& key) {
  std::lock_guard lock(mu_);
  statuses_.erase({static_cast<int>(kind), key});
}

void KubeStatusWriter::recordEvent(const Event& event) {
  {
    std::lock_guard lock(mu_);
    if (events_.size() >= 1000) {
      events_.pop_front();  // bounded: an API server that is away must not grow us
    }
    events_.push_back(event);
  }
  cv_.notify_all();
}

bool KubeStatusWriter::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [this] { return statuses_.empty() && events_.empty() && !busy_; });
}

void KubeStatusWriter::loop() {
  auto logger = log::get("operator.status");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !statuses_.empty() || !events_.empty(); });
    if (stopping_) {
      return;
    }
    busy_ = true;
    if (!statuses_.empty()) {
      auto node = statuses_.extract(statuses_.begin());
      lock.unlock();
      auto kind = static_cast<Kind>(node.key().first);
      const std::string& key = node.key().second;
      std::string ns = key.substr(0, key.find('/'));
      std::string name = key.substr(key.find('/') + 1);
      auto r = api_->patch(source::resourceOf(kind), ns, name, kube::PatchType::kMerge,
                           Json{{"status", node.mapped()}}, "status");
      if (r.ok()) {
        written_.fetch_add(1);
      } else {
        failures_.fetch_add(1);
        logger->warn("status of {} {}: {}", source::kindName(kind), key, r.error().describe());
      }
      lock.lock();
    } else {
      Event e = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      std::string ns = e.key.substr(0, e.key.find('/'));
      Json involved{{"apiVersion", source::apiVersionOf(e.kind)},
                    {"kind", source::kindName(e.kind)},
                    {"metadata", {{"name", e.key.substr(e.key.find('/') + 1)}}}};
      if (!ns.empty()) {
        involved["metadata"]["namespace"] = ns;
      }
      kube::EventInfo info;
      info.type = e.type;
      info.reason = e.reason;
      info.message = e.message;
      auto r = kube::createEvent(*api_, involved, info);
      if (!r.ok()) {
        failures_.fetch_add(1);
        logger->warn("event on {} {}: {}", source::kindName(e.kind), e.key, r.error().describe());
      }
      lock.lock();
    }
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace weft::op::status
