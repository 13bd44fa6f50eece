#include "webhook/src/app/server_version.h"

#include <algorithm>
#include <thread>

#include "common/log/log.h"

namespace weft::webhook {

Result<std::string> fetchServerVersion(kube::HttpKubeApi& api, std::chrono::milliseconds budget) {
  auto logger = log::get("injector");
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::chrono::milliseconds pause{200};
  for (int attempt = 1;; ++attempt) {
    auto body = api.serverVersion();
    if (body) {
      return (*body)["gitVersion"].get<std::string>();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      return body.error().context("GET /version (" + std::to_string(attempt) + " attempts)");
    }
    logger->info("GET /version failed (attempt {}), retrying in {} ms: {}", attempt,
                 std::min(pause, left).count(), body.error().message);
    std::this_thread::sleep_for(std::min(pause, left));
    pause = std::min(pause * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace weft::webhook
