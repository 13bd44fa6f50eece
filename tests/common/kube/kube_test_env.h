// Shared setup for the client tests: an HTTPS fake API server with a fresh
// CA, and an HttpKubeApi that trusts it and authenticates with a token.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "common/kube/http_kube_api.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"

namespace weft::kube::testing {

class KubeTestEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = weft::testing::makeTestPki();
    ASSERT_TRUE(pki.ok()) << pki.error().describe();
    pki_ = *pki;
    weft::testing::FakeApiServerOptions options;
    options.certPem = pki_.serverCertPem;
    options.keyPem = pki_.serverKeyPem;
    options.bookmarkInterval = std::chrono::milliseconds(100);
    auto server = weft::testing::FakeApiServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    server_->state().setRequiredToken("test-token");
    config_.server = server_->url();
    config_.caPem = pki_.caCertPem;
    config_.token = "test-token";
    auto api = HttpKubeApi::create(config_,
                                   HttpKubeApiOptions{0, 1, std::chrono::seconds(10), "weft-test"});
    ASSERT_TRUE(api.ok()) << api.error().describe();
    api_ = std::move(*api);
  }

  // Polls `condition` every 5 ms for at most `limit`.
  static bool waitFor(const std::function<bool()>& condition,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return condition();
  }

  static Json named(const std::string& name, const std::string& ns = "") {
    Json meta = {{"name", name}};
    if (!ns.empty()) {
      meta["namespace"] = ns;
    }
    return Json{{"metadata", meta}};
  }

  weft::testing::TestPki pki_;
  std::unique_ptr<weft::testing::FakeApiServer> server_;
  KubeConfig config_;
  std::unique_ptr<HttpKubeApi> api_;
};

}  // namespace weft::kube::testing
