// KubeStatusWriter: the StatusWriter for a real cluster. Status goes to the
// object's /status subresource (a merge patch, so no resourceVersion race),
// Events become core/v1 Events. Writes happen on a thread of its own so a
// slow or absent API server never holds up the reconciler; pending status
// per object coalesces (the latest wins), failed writes are retried with
// backoff, and nothing is written while `mayWrite` says no (not the leader).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/kube/kube_api.h"
#include "operator/src/status/status.h"

namespace weft::op::source {

struct KubeStatusWriterOptions {
  std::function<bool()> mayWrite;       // null: always (a single replica)
  std::size_t maxPendingEvents = 1000;  // beyond this the oldest are dropped
  std::chrono::milliseconds retryDelay{500};
  std::chrono::milliseconds maxRetryDelay{30000};
};

class KubeStatusWriter final : public status::StatusWriter {
 public:
  KubeStatusWriter(std::shared_ptr<kube::KubeApi> api, KubeStatusWriterOptions options = {});
  ~KubeStatusWriter() override;

  // status::StatusWriter (thread-safe; never blocks on the network)
  void writeStatus(Kind kind, const std::string& key, const json::Json& status) override;
  void forget(Kind kind, const std::string& key) override;
  void recordEvent(const status::Event& event) override;

  // Waits until nothing is pending (or `timeout`); true when drained. For
  // tests and shutdown.
  bool flush(std::chrono::milliseconds timeout);
  // Drops every pending status and Event (leadership lost: the new leader
  // writes what is current; a write already in flight still completes).
  void discard();
  std::uint64_t statusWrites() const;
  std::uint64_t eventsWritten() const;
  std::uint64_t failures() const;

 private:
  using ObjectId = std::pair<Kind, std::string>;
  void loop();
  Result<void> writeOne(Kind kind, const std::string& key, const json::Json& status);
  Result<void> sendEvent(const status::Event& event);

  std::shared_ptr<kube::KubeApi> api_;
  KubeStatusWriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<ObjectId, json::Json> pending_;
  std::deque<status::Event> events_;
  bool busy_ = false;
  bool stopping_ = false;
  std::uint64_t statusWrites_ = 0;
  std::uint64_t eventsWritten_ = 0;
  std::uint64_t failures_ = 0;
  std::thread thread_;
};

}  // namespace weft::op::source
