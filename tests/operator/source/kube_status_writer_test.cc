// KubeStatusWriter against the fake API server: status lands on /status
// without bumping generation, Events are created, writes coalesce, wait for
// leadership (what a lost leader had queued is dropped), and survive a
// failing API server.
#include "operator/src/source/kube_status_writer.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/kube/http_kube_api.h"
#include "tests/fakes/fake_apiserver.h"

namespace weft::op::source {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace r = kube::resources;

class KubeStatusWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = weft::testing::FakeApiServer::start();
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    kube::KubeConfig config;
    config.server = server_->url();  // plain HTTP is enough here
    auto api = kube::HttpKubeApi::create(config, {0, 1, std::chrono::seconds(10), "weft-test"});
    ASSERT_TRUE(api.ok());
    api_ = std::shared_ptr<kube::KubeApi>(std::move(*api));
    ASSERT_TRUE(api_->create(r::trafficPolicies(), "shop",
                             Json{{"metadata", {{"name", "web"}}}, {"spec", {{"a", 1}}}})
                    .ok());
  }

  std::unique_ptr<weft::testing::FakeApiServer> server_;
  std::shared_ptr<kube::KubeApi> api_;
};

TEST_F(KubeStatusWriterTest, WritesStatusAndEvents) {
  KubeStatusWriter writer(api_);
  Json status = {{"conditions", Json::array({{{"type", "Accepted"},
                                              {"status", "True"},
                                              {"reason", "Accepted"},
                                              {"observedGeneration", 1}}})}};
  writer.writeStatus(Kind::kTrafficPolicy, "shop/web", status);
  writer.recordEvent({Kind::kTrafficPolicy, "shop/web", "Warning", "BackendNotFound", "no db"});
  ASSERT_TRUE(writer.flush(10s));
  auto object = api_->get(r::trafficPolicies(), "shop", "web");
  ASSERT_TRUE(object.ok());
  EXPECT_EQ((*object)["status"], status);
  EXPECT_EQ((*object)["metadata"]["generation"], 1);
  auto events = api_->list(r::events(), "shop", {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 1u);
  EXPECT_EQ(events->items[0]["reason"], "BackendNotFound");
  EXPECT_EQ(events->items[0]["involvedObject"]["kind"], "TrafficPolicy");
  EXPECT_EQ(writer.statusWrites(), 1u);
  EXPECT_EQ(writer.eventsWritten(), 1u);

  // A vanished object is not an error worth retrying.
  writer.writeStatus(Kind::kTrafficPolicy, "shop/gone", status);
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_EQ(writer.failures(), 0u);
}

TEST_F(KubeStatusWriterTest, WaitsForLeadershipAndKeepsOnlyTheLatest) {
  std::atomic<bool> leader{false};
  KubeStatusWriterOptions options;
  options.mayWrite = [&] { return leader.load(); };
  KubeStatusWriter writer(api_, options);
  for (int i = 1; i <= 5; ++i) {
    writer.writeStatus(Kind::kTrafficPolicy, "shop/web", Json{{"round", i}});
  }
  EXPECT_FALSE(writer.flush(200ms));
  EXPECT_EQ(server_->state().requestCount("PATCH", ""), 0u);
  leader = true;
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_EQ(server_->state().requestCount("PATCH", ""), 1u);  // coalesced
  EXPECT_EQ((*api_->get(r::trafficPolicies(), "shop", "web"))["status"]["round"], 5);
}

TEST_F(KubeStatusWriterTest, DiscardDropsWhatALostLeaderHadQueued) {
  std::atomic<bool> leader{false};
  KubeStatusWriterOptions options;
  options.mayWrite = [&] { return leader.load(); };
  KubeStatusWriter writer(api_, options);
  writer.writeStatus(Kind::kTrafficPolicy, "shop/web", Json{{"round", 1}});
  writer.recordEvent({Kind::kTrafficPolicy, "shop/web", "Warning", "Invalid", "stale"});
  writer.discard();
  leader = true;
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_EQ(server_->state().requestCount("PATCH", ""), 0u);
  auto events = api_->list(r::events(), "shop", {});
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->items.empty());
  EXPECT_EQ(writer.statusWrites() + writer.eventsWritten(), 0u);
}

TEST_F(KubeStatusWriterTest, RetriesWhileTheApiServerFails) {
  KubeStatusWriterOptions options;
  options.retryDelay = 10ms;
  KubeStatusWriter writer(api_, options);
  server_->state().injectError(r::trafficPolicies().path("shop", "web", "status"), 500, 3);
  writer.writeStatus(Kind::kTrafficPolicy, "shop/web", Json{{"ok", true}});
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_EQ(writer.failures(), 3u);
  EXPECT_EQ((*api_->get(r::trafficPolicies(), "shop", "web"))["status"]["ok"], true);
}

}  // namespace
}  // namespace weft::op::source
