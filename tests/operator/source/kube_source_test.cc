// KubeSource + SharedCache + WorkQueue + Workers against the fake API server
// over HTTPS: the first list syncs every kind, watch events reach the cache
// and the queue, dropped watches and compaction (410 relist) lose nothing,
// and a 403 is reported and retried.
#include "operator/src/source/kube_source.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/kube/http_kube_api.h"
#include "operator/src/cache/shared_cache.h"
#include "operator/src/queue/workers.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"

namespace weft::op::source {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace r = kube::resources;

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

Json named(const std::string& name) { return Json{{"metadata", {{"name", name}}}}; }

class KubeSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = weft::testing::makeTestPki();
    ASSERT_TRUE(pki.ok());
    weft::testing::FakeApiServerOptions options;
    options.certPem = pki->serverCertPem;
    options.keyPem = pki->serverKeyPem;
    options.bookmarkInterval = 100ms;
    auto server = weft::testing::FakeApiServer::start(options);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    kube::KubeConfig config;
    config.server = server_->url();
    config.caPem = pki->caCertPem;
    auto api = kube::HttpKubeApi::create(config, {0, 1, std::chrono::seconds(10), "weft-test"});
    ASSERT_TRUE(api.ok());
    api_ = std::shared_ptr<kube::KubeApi>(std::move(*api));

    // A little of everything before the operator starts.
    ASSERT_TRUE(api_->create(r::meshes(), "", named("default")).ok());
    ASSERT_TRUE(api_->create(r::namespaces(), "", named("shop")).ok());
    ASSERT_TRUE(api_->create(r::services(), "shop", named("web")).ok());
    ASSERT_TRUE(api_->create(r::endpointSlices(), "shop", named("web-abc")).ok());
    ASSERT_TRUE(api_->create(r::pods(), "shop", named("web-1")).ok());
    ASSERT_TRUE(api_->create(r::trafficPolicies(), "shop", named("web")).ok());
  }
  void TearDown() override {
    if (workers_) {
      workers_->stop();
    }
    if (source_) {
      source_->stop();
    }
  }
  void start() {
    KubeSourceOptions options;
    options.pageSize = 2;
    options.initialBackoff = 10ms;
    options.maxBackoff = 100ms;
    options.watchTimeoutSeconds = 30;
    source_ = std::make_unique<KubeSource>(api_, options);
    cache_.addHandler(cache::enqueueKeys(queue_));
    workers_ = std::make_unique<queue::Workers>(queue_, 2, [this](const std::string& key) {
      std::lock_guard lock(mu_);
      reconciled_.insert(key);
      if (!cache_.hasSynced()) {
        beforeSync_ = true;
      }
      return queue::Outcome::done();
    });
    workers_->start([this] { return cache_.hasSynced(); });
    ASSERT_TRUE(source_->start(cache_).ok());
  }
  bool reconciled(const std::string& key) {
    std::lock_guard lock(mu_);
    return reconciled_.count(key) > 0;
  }
  void forgetReconciled() {
    std::lock_guard lock(mu_);
    reconciled_.clear();
  }

  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::shared_ptr<kube::KubeApi> api_;
  cache::SharedCache cache_;
  queue::WorkQueue queue_;
  std::unique_ptr<queue::Workers> workers_;
  std::unique_ptr<KubeSource> source_;
  std::mutex mu_;
  std::set<std::string> reconciled_;
  bool beforeSync_ = false;
};

TEST_F(KubeSourceTest, SyncsEveryKindThenFollowsWatchEvents) {
  start();
  ASSERT_TRUE(cache_.waitForSync(10s));
  EXPECT_TRUE(cache_.get(Kind::kMesh, "/default"));
  EXPECT_TRUE(cache_.get(Kind::kNamespace, "/shop"));
  EXPECT_TRUE(cache_.get(Kind::kEndpointSlice, "shop/web-abc"));
  EXPECT_TRUE(cache_.get(Kind::kPod, "shop/web-1"));
  auto policy = cache_.get(Kind::kTrafficPolicy, "shop/web");
  ASSERT_TRUE(policy);
  // Listed objects carry apiVersion and kind like watched ones.
  EXPECT_EQ(
      kindOf((*policy)["apiVersion"].get<std::string>(), (*policy)["kind"].get<std::string>()),
      Kind::kTrafficPolicy);
  ASSERT_TRUE(waitFor([&] { return reconciled("shop/web") && reconciled("/default"); }));

  ASSERT_TRUE(api_->create(r::trafficRoutes(), "shop", named("canary")).ok());
  ASSERT_TRUE(api_->remove(r::pods(), "shop", "web-1").ok());
  ASSERT_TRUE(waitFor([&] {
    return cache_.get(Kind::kTrafficRoute, "shop/canary") && !cache_.get(Kind::kPod, "shop/web-1");
  }));
  ASSERT_TRUE(waitFor([&] { return reconciled("shop/canary"); }));
  std::lock_guard lock(mu_);
  EXPECT_FALSE(beforeSync_);
}

TEST_F(KubeSourceTest, DroppedWatchesAndCompactionLoseNothing) {
  start();
  ASSERT_TRUE(cache_.waitForSync(10s));
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 8; }));
  std::uint64_t listsBefore = source_->relists();

  server_->state().dropWatches();
  ASSERT_TRUE(api_->create(r::services(), "shop", named("during-drop")).ok());
  ASSERT_TRUE(waitFor([&] { return cache_.get(Kind::kService, "shop/during-drop") != nullptr; }));
  EXPECT_EQ(source_->relists(), listsBefore);  // resumed, not relisted

  // Hide a delete from every watch, then compact: only a relist finds it.
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 8; }));
  server_->state().injectError(r::services().path(""), 500, -1, "GET");
  server_->state().injectError(r::services().path("shop"), 500, -1, "GET");
  server_->state().dropWatches();
  ASSERT_TRUE(api_->remove(r::services(), "shop", "web").ok());
  forgetReconciled();
  server_->state().compact();
  server_->state().clearInjectedErrors();
  ASSERT_TRUE(waitFor([&] { return cache_.get(Kind::kService, "shop/web") == nullptr; }));
  EXPECT_TRUE(cache_.get(Kind::kService, "shop/during-drop"));
  EXPECT_GT(source_->relists(), listsBefore);
  // The vanished object's key was enqueued so the reconciler can clean up.
  ASSERT_TRUE(waitFor([&] { return reconciled("shop/web"); }));
}

TEST_F(KubeSourceTest, ForbiddenIsReportedAndRetriedUntilItWorks) {
  server_->state().injectError(r::pods().path(""), 403, 3);
  start();
  ASSERT_TRUE(cache_.waitForSync(10s));
  EXPECT_GE(source_->errors(), 3u);
  EXPECT_TRUE(cache_.get(Kind::kPod, "shop/web-1"));
  EXPECT_EQ(source_->lastError(Kind::kPod), "");  // cleared by the successful list
}

TEST_F(KubeSourceTest, NoSyncWhileAKindCannotBeListed) {
  server_->state().injectError(r::namespaces().path(""), 403, -1);
  start();
  ASSERT_TRUE(waitFor(
      [&] { return source_->lastError(Kind::kNamespace).find("Forbidden") != std::string::npos; }));
  ASSERT_TRUE(waitFor([&] { return cache_.size(Kind::kService) == 1; }));  // others are served
  EXPECT_FALSE(cache_.waitForSync(300ms));
}

}  // namespace
}  // namespace weft::op::source
