// KubeStatusWriter: status through each object's /status subresource (a
// merge patch of `status`) and core/v1 Events, written by a thread of its own
// so that a slow or unreachable API server never stalls reconciling or the
// discovery streams. Only the latest status per object is kept while waiting.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "operator/src/status/status.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::op::status {

class KubeStatusWriter final : public StatusWriter {
 public:
  explicit KubeStatusWriter(std::shared_ptr<kube::KubeApi> api);
  ~KubeStatusWriter() override;

  // StatusWriter (any thread; returns at once)
  void writeStatus(Kind kind, const std::string& key, const json::Json& status) override;
  void forget(Kind kind, const std::string& key) override;
  void recordEvent(const Event& event) override;

  std::uint64_t written() const { return written_.load(); }
  std::uint64_t failures() const { return failures_.load(); }
  // Waits until nothing is queued (tests); false on timeout.
  bool drain(std::chrono::milliseconds timeout);

 private:
  void loop();

  std::shared_ptr<kube::KubeApi> api_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<int, std::string>, json::Json> statuses_;
  std::deque<Event> events_;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::thread thread_;
};

}  // namespace weft::op::status
