// Leadership: the election thread.
#include "operator/src/app/leadership.h"

namespace weft::op::app {

Leadership::Leadership(kube::KubeApi& api, kube::LeaderElectionOptions options,
                       std::function<void(bool)> onChange)
    : elector_(
          api, std::move(options), [onChange] { onChange(true); },
          [onChange] { onChange(false); }) {}

Leadership::~Leadership() { stop(); }

void Leadership::start() {
  thread_ = std::thread([this] { elector_.run(stop_); });
}

void Leadership::stop() {
  stop_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace weft::op::app
