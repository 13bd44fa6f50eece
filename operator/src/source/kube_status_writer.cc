// KubeStatusWriter: a coalescing write-behind queue to /status and Events.
#include "operator/src/source/kube_status_writer.h"

#include "common/log/log.h"
#include "operator/src/source/kube_source.h"

namespace weft::op::source {
namespace {

std::pair<std::string, std::string> splitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) {
    return {"", key};
  }
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace

KubeStatusWriter::KubeStatusWriter(std::shared_ptr<kube::KubeApi> api,
                                   KubeStatusWriterOptions options)
    : api_(std::move(api)), options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

KubeStatusWriter::~KubeStatusWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void KubeStatusWriter::writeStatus(Kind kind, const std::string& key, const json::Json& status) {
  {
    std::lock_guard lock(mu_);
    pending_[{kind, key}] = status;
  }
  cv_.notify_all();
}

void KubeStatusWriter::forget(Kind kind, const std::string& key) {
  std::lock_guard lock(mu_);
  pending_.erase({kind, key});
}

void KubeStatusWriter::recordEvent(const status::Event& event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(event);
    while (events_.size() > options_.maxPendingEvents) {
      events_.pop_front();
      ++failures_;
    }
  }
  cv_.notify_all();
}

bool KubeStatusWriter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pending_.empty() && events_.empty() && !busy_; });
}

void KubeStatusWriter::discard() {
  {
    std::lock_guard lock(mu_);
    pending_.clear();
    events_.clear();
  }
  cv_.notify_all();
}

std::uint64_t KubeStatusWriter::statusWrites() const {
  std::lock_guard lock(mu_);
  return statusWrites_;
}

std::uint64_t KubeStatusWriter::eventsWritten() const {
  std::lock_guard lock(mu_);
  return eventsWritten_;
}

std::uint64_t KubeStatusWriter::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

Result<void> KubeStatusWriter::writeOne(Kind kind, const std::string& key,
                                        const json::Json& status) {
  auto [ns, name] = splitKey(key);
  auto result = api_->patch(resourceOf(kind), ns, name, kube::PatchType::kMerge,
                            json::Json{{"status", status}}, "status");
  if (!result.ok()) {
    return result.error();
  }
  return okResult();
}

Result<void> KubeStatusWriter::sendEvent(const status::Event& event) {
  auto [ns, name] = splitKey(event.key);
  json::Json involved = {{"apiVersion", apiVersionOf(event.kind)},
                         {"kind", kindName(event.kind)},
                         {"metadata", {{"name", name}}}};
  if (!ns.empty()) {
    involved["metadata"]["namespace"] = ns;
  }
  auto result = kube::createEvent(
      *api_, involved, kube::EventInfo{event.type, event.reason, event.message, "weft-operator"});
  if (!result.ok()) {
    return result.error();
  }
  return okResult();
}

void KubeStatusWriter::loop() {
  auto logger = log::get("operator.status");
  auto delay = options_.retryDelay;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bool allowed = !options_.mayWrite || options_.mayWrite();
    if (!allowed || (pending_.empty() && events_.empty())) {
      // Not the leader: hold on to the latest status; the leader writes it.
      cv_.notify_all();
      cv_.wait_for(lock,
                   allowed ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100));
      continue;
    }
    bool failed = false;
    busy_ = true;
    if (!pending_.empty()) {
      auto it = pending_.begin();
      ObjectId id = it->first;
      json::Json status = std::move(it->second);
      pending_.erase(it);
      lock.unlock();
      auto written = writeOne(id.first, id.second, status);
      lock.lock();
      if (written.ok()) {
        ++statusWrites_;
      } else if (kube::isNotFound(written.error())) {
        // The object is gone; its status with it.
      } else {
        ++failures_;
        failed = true;
        logger->warn("status of {} {}: {}", kindName(id.first), id.second,
                     written.error().describe());
        pending_.emplace(id, std::move(status));  // unless a newer one came meanwhile
      }
    } else {
      status::Event event = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      auto sent = sendEvent(event);
      lock.lock();
      if (sent.ok()) {
        ++eventsWritten_;
      } else if (kube::isNotFound(sent.error())) {
        // The namespace is gone.
      } else {
        ++failures_;
        failed = true;
        logger->warn("event {} on {} {}: {}", event.reason, kindName(event.kind), event.key,
                     sent.error().describe());
        events_.push_front(std::move(event));
      }
    }
    busy_ = false;
    cv_.notify_all();
    if (failed) {
      cv_.wait_for(lock, delay, [&] { return stopping_; });
      delay = std::min(delay * 2, options_.maxRetryDelay);
    } else {
      delay = options_.retryDelay;
    }
  }
}

}  // namespace weft::op::source
