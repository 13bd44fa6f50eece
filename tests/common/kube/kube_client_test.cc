// HttpKubeApi against the fake API server over HTTPS: CRUD with typed
// errors, pagination, watch with bookmarks, patches, /status, retries on
// conflict, auth (token, rotation, client certificates), Events, rate limit.
#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/common/kube/kube_test_env.h"

namespace weft::kube::testing {
namespace {

using ClientTest = KubeTestEnv;

TEST_F(ClientTest, CreateGetUpdateDeleteWithTypedErrors) {
  auto created = api_->create(resources::services(), "web", named("front"));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_EQ((*created)["metadata"]["namespace"], "web");
  EXPECT_EQ((*created)["kind"], "Service");

  auto again = api_->create(resources::services(), "web", named("front"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(kubeErrorOf(again.error()).reason, "AlreadyExists");
  EXPECT_EQ(kubeErrorOf(again.error()).code, 409);

  auto missing = api_->get(resources::services(), "web", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(isNotFound(missing.error()));
  EXPECT_EQ(kubeErrorOf(missing.error()).message, "services \"nope\" not found");

  Json stale = *created;
  Json fresh = *created;
  fresh["metadata"]["labels"] = {{"v", "1"}};
  ASSERT_TRUE(api_->update(resources::services(), fresh).ok());
  stale["metadata"]["labels"] = {{"v", "2"}};
  auto conflict = api_->update(resources::services(), stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(isConflict(conflict.error()));

  auto invalid = api_->create(resources::services(), "web", Json{{"spec", Json::object()}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(kubeErrorOf(invalid.error()).code, 422);

  ASSERT_TRUE(api_->remove(resources::services(), "web", "front").ok());
  EXPECT_TRUE(isNotFound(api_->get(resources::services(), "web", "front").error()));
  EXPECT_TRUE(isNotFound(api_->remove(resources::services(), "web", "front").error()));
}

TEST_F(ClientTest, ListAllFollowsContinueTokens) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        api_->create(resources::trafficPolicies(), "ns", named("p" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(api_->create(resources::trafficPolicies(), "other", named("x")).ok());
  ListOptions options;
  options.limit = 2;
  auto all = listAll(*api_, resources::trafficPolicies(), "ns", options);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  ASSERT_EQ(all->items.size(), 7u);
  EXPECT_EQ(all->items[6]["metadata"]["name"], "p6");
  EXPECT_EQ(all->items[0]["kind"], "TrafficPolicy");
  EXPECT_EQ(server_->state().requestCount("GET", resources::trafficPolicies().path("ns")), 4u);
  auto everywhere = listAll(*api_, resources::trafficPolicies(), "", options);
  ASSERT_TRUE(everywhere.ok());
  EXPECT_EQ(everywhere->items.size(), 8u);
}

// Compacts the fake's history right after the first page is served.
class CompactAfterFirstPage : public KubeApi {
 public:
  CompactAfterFirstPage(KubeApi& inner, weft::testing::FakeApiServer& server)
      : inner_(inner), server_(server) {}
  Result<Json> get(const Resource& r, std::string_view ns, std::string_view n) override {
    return inner_.get(r, ns, n);
  }
  Result<ObjectList> list(const Resource& r, std::string_view ns, const ListOptions& o) override {
    auto page = inner_.list(r, ns, o);
    if (calls_++ == 0) {
      server_.state().compact();
    }
    return page;
  }
  Result<void> watch(const Resource& r, std::string_view ns, const WatchOptions& o,
                     const std::function<void(WatchEvent&&)>& f, StopSignal& s) override {
    return inner_.watch(r, ns, o, f, s);
  }
  Result<Json> create(const Resource& r, std::string_view ns, const Json& o) override {
    return inner_.create(r, ns, o);
  }
  Result<Json> update(const Resource& r, const Json& o, std::string_view sub) override {
    return inner_.update(r, o, sub);
  }
  Result<Json> patch(const Resource& r, std::string_view ns, std::string_view n, PatchType t,
                     const Json& p, std::string_view sub) override {
    return inner_.patch(r, ns, n, t, p, sub);
  }
  Result<void> remove(const Resource& r, std::string_view ns, std::string_view n) override {
    return inner_.remove(r, ns, n);
  }
  int calls_ = 0;

 private:
  KubeApi& inner_;
  weft::testing::FakeApiServer& server_;
};

TEST_F(ClientTest, ExpiredContinueTokenRestartsTheList) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(api_->create(resources::pods(), "ns", named("pod" + std::to_string(i))).ok());
  }
  CompactAfterFirstPage compacting(*api_, *server_);
  ListOptions options;
  options.limit = 2;
  auto all = listAll(compacting, resources::pods(), "ns", options);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ(all->items.size(), 5u);
  // page 1, expired page 2, then 3 pages from the start.
  EXPECT_EQ(compacting.calls_, 5);
}

TEST_F(ClientTest, WatchDeliversEventsAndBookmarksUntilTheServerTimeout) {
  auto list = api_->list(resources::trafficRoutes(), "ns", {});
  ASSERT_TRUE(list.ok());
  std::vector<WatchEvent> events;
  std::mutex mu;
  StopSignal stop;
  Result<void> result = okResult();
  std::thread watcher([&] {
    WatchOptions options;
    options.resourceVersion = list->resourceVersion;
    options.timeoutSeconds = 1;
    result = api_->watch(
        resources::trafficRoutes(), "ns", options,
        [&](WatchEvent&& e) {
          std::lock_guard lock(mu);
          events.push_back(std::move(e));
        },
        stop);
  });
  ASSERT_TRUE(api_->create(resources::trafficRoutes(), "ns", named("r")).ok());
  ASSERT_TRUE(api_->patch(resources::trafficRoutes(), "ns", "r", PatchType::kMerge,
                          Json{{"spec", {{"x", 1}}}})
                  .ok());
  ASSERT_TRUE(api_->remove(resources::trafficRoutes(), "ns", "r").ok());
  watcher.join();
  ASSERT_TRUE(result.ok()) << result.error().describe();
  std::vector<WatchEventType> types;
  for (const auto& e : events) {
    if (e.type != WatchEventType::kBookmark) {
      types.push_back(e.type);
    }
  }
  EXPECT_EQ(types, (std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kModified,
                                                WatchEventType::kDeleted}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, WatchEventType::kBookmark);
  EXPECT_EQ(resourceVersionOf(events.back().object),
            std::to_string(server_->state().resourceVersion()));
}

TEST_F(ClientTest, WatchFromACompactedVersionIsExpired) {
  auto list = api_->list(resources::pods(), "", {});
  ASSERT_TRUE(list.ok());
  server_->state().compact();
  StopSignal stop;
  WatchOptions options;
  options.resourceVersion = list->resourceVersion;
  auto result = api_->watch(
      resources::pods(), "", options, [](WatchEvent&&) {}, stop);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(isExpired(result.error())) << result.error().describe();
  EXPECT_NE(result.error().message.find("too old resource version"), std::string::npos);
}

TEST_F(ClientTest, StopEndsAQuietWatchPromptly) {
  StopSignal stop;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    WatchOptions options;
    options.timeoutSeconds = 60;
    options.allowBookmarks = false;
    auto r = api_->watch(
        resources::pods(), "", options, [](WatchEvent&&) {}, stop);
    EXPECT_TRUE(r.ok());
    done = true;
  });
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 1; }));
  auto started = std::chrono::steady_clock::now();
  stop.stop();
  EXPECT_TRUE(waitFor([&] { return done.load(); }, std::chrono::seconds(5)));
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(ClientTest, MergeAndJsonPatchesAndUnsupportedTypes) {
  ASSERT_TRUE(api_->create(resources::accessPolicies(), "ns", named("a")).ok());
  auto merged = api_->patch(resources::accessPolicies(), "ns", "a", PatchType::kMerge,
                            Json{{"metadata", {{"labels", {{"k", "v"}}}}}});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)["metadata"]["labels"]["k"], "v");
  auto patched = api_->patch(
      resources::accessPolicies(), "ns", "a", PatchType::kJson,
      Json::array({Json{{"op", "add"}, {"path", "/spec"}, {"value", {{"action", "ALLOW"}}}}}));
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["spec"]["action"], "ALLOW");
  EXPECT_EQ((*patched)["metadata"]["generation"], 2);
  auto strategic = api_->patch(resources::accessPolicies(), "ns", "a", PatchType::kStrategicMerge,
                               Json{{"spec", {{"action", "DENY"}}}});
  ASSERT_FALSE(strategic.ok());
  EXPECT_EQ(kubeErrorOf(strategic.error()).reason, "UnsupportedMediaType");
  EXPECT_EQ(kubeErrorOf(strategic.error()).code, 415);
}

TEST_F(ClientTest, StatusSubresourceWritesStatusOnly) {
  auto created =
      api_->create(resources::meshes(), "",
                   Json{{"metadata", {{"name", "default"}}}, {"spec", {{"trustDomain", "a"}}}});
  ASSERT_TRUE(created.ok()) << created.error().describe();
  Json withStatus = *created;
  withStatus["status"] = {{"observedGeneration", 1}};
  withStatus["spec"]["trustDomain"] = "ignored";
  auto written = api_->update(resources::meshes(), withStatus, "status");
  ASSERT_TRUE(written.ok()) << written.error().describe();
  EXPECT_EQ((*written)["status"]["observedGeneration"], 1);
  EXPECT_EQ((*written)["spec"]["trustDomain"], "a");
  EXPECT_EQ((*written)["metadata"]["generation"], 1);
  auto patched = api_->patch(resources::meshes(), "", "default", PatchType::kMerge,
                             Json{{"status", {{"phase", "Ready"}}}}, "status");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["status"]["phase"], "Ready");
  EXPECT_EQ((*patched)["metadata"]["generation"], 1);
}

TEST_F(ClientTest, StatusUpdateConflictIsRetriedWithAFreshRead) {
  ASSERT_TRUE(api_->create(resources::trafficPolicies(), "ns", named("tp")).ok());
  int attempts = 0;
  auto result = updateWithRetry(
      *api_, resources::trafficPolicies(), "ns", "tp",
      [&](Json& object) {
        if (++attempts == 1) {
          // Someone else writes between our read and our write.
          EXPECT_TRUE(api_->patch(resources::trafficPolicies(), "ns", "tp", PatchType::kMerge,
                                  Json{{"status", {{"by", "other"}}}}, "status")
                          .ok());
        }
        object["status"]["conditions"] = Json::array({{{"type", "Accepted"}, {"status", "True"}}});
        return true;
      },
      "status");
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ((*result)["status"]["by"], "other");  // the re-read saw the other write
  EXPECT_EQ((*result)["status"]["conditions"][0]["type"], "Accepted");
  EXPECT_EQ(
      server_->state().requestCount("PUT", resources::trafficPolicies().path("ns", "tp", "status")),
      2u);

  int calls = 0;
  auto skipped = updateWithRetry(*api_, resources::trafficPolicies(), "ns", "tp",
                                 [&](Json&) { return ++calls < 0; });
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(calls, 1);
  // Only the two status writes of the first call: the skipped one wrote nothing.
  EXPECT_EQ(server_->state().requestCount("PUT", resources::trafficPolicies().path("ns")), 2u);
}

TEST_F(ClientTest, ForbiddenAndUnauthorizedAreTyped) {
  server_->state().injectError(resources::pods().path("ns"), 403, 1);
  auto denied = api_->list(resources::pods(), "ns", {});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.error().message.find("cannot list resource \"pods\""), std::string::npos);
  EXPECT_TRUE(api_->list(resources::pods(), "ns", {}).ok());

  server_->state().injectError(resources::pods().path("ns"), 500, 1);
  EXPECT_EQ(api_->list(resources::pods(), "ns", {}).error().code, ErrorCode::kUnavailable);

  server_->state().setRequiredToken("another");
  auto unauth = api_->get(resources::pods(), "ns", "x");
  ASSERT_FALSE(unauth.ok());
  EXPECT_EQ(unauth.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(ClientTest, ServerVersionIsReadFromSlashVersion) {
  server_->state().setServerVersion("v1.30.2");
  auto version = api_->serverVersion();
  ASSERT_TRUE(version.ok()) << version.error().describe();
  EXPECT_EQ((*version)["gitVersion"], "v1.30.2");
  EXPECT_EQ((*version)["minor"], "30");

  server_->state().injectError("/version", 500, 1);
  auto failed = api_->serverVersion();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

TEST_F(ClientTest, RotatedTokenFileIsReRead) {
  auto dir =
      std::filesystem::temp_directory_path() / ("weft-kube-token-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string tokenFile = (dir / "token").string();
  ASSERT_TRUE(writeFileAtomic(tokenFile, "first\n").ok());
  KubeConfig config = config_;
  config.token = "";
  config.tokenFile = tokenFile;
  auto api = HttpKubeApi::create(config);
  ASSERT_TRUE(api.ok());
  server_->state().setRequiredToken("first");
  EXPECT_TRUE((*api)->list(resources::pods(), "", {}).ok());
  server_->state().setRequiredToken("second-longer");
  EXPECT_EQ((*api)->list(resources::pods(), "", {}).error().code, ErrorCode::kUnauthenticated);
  ASSERT_TRUE(writeFileAtomic(tokenFile, "second-longer\n").ok());
  EXPECT_TRUE((*api)->list(resources::pods(), "", {}).ok());
  std::filesystem::remove_all(dir);
}

TEST_F(ClientTest, ServerCertificateIsVerified) {
  KubeConfig noCa = config_;
  noCa.caPem.clear();
  auto untrusted = HttpKubeApi::create(noCa);
  ASSERT_TRUE(untrusted.ok());
  auto refused = (*untrusted)->list(resources::pods(), "", {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);

  noCa.insecureSkipTlsVerify = true;
  auto insecure = HttpKubeApi::create(noCa);
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE((*insecure)->list(resources::pods(), "", {}).ok());

  KubeConfig badPem = config_;
  badPem.caPem = "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n";
  EXPECT_FALSE(HttpKubeApi::create(badPem).ok());
}

TEST_F(ClientTest, ClientCertificateAuthentication) {
  weft::testing::FakeApiServerOptions options;
  options.certPem = pki_.serverCertPem;
  options.keyPem = pki_.serverKeyPem;
  options.clientCaPem = pki_.caCertPem;
  auto mtls = weft::testing::FakeApiServer::start(options);
  ASSERT_TRUE(mtls.ok());
  KubeConfig config;
  config.server = (*mtls)->url();
  config.caPem = pki_.caCertPem;
  auto anonymous = HttpKubeApi::create(config);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_FALSE((*anonymous)->list(resources::pods(), "", {}).ok());
  config.clientCertPem = pki_.clientCertPem;
  config.clientKeyPem = pki_.clientKeyPem;
  auto withCert = HttpKubeApi::create(config);
  ASSERT_TRUE(withCert.ok());
  auto listed = (*withCert)->list(resources::pods(), "", {});
  EXPECT_TRUE(listed.ok()) << listed.error().describe();
}

TEST_F(ClientTest, EventsAreCreatedAboutAnObject) {
  auto policy = api_->create(resources::trafficPolicies(), "ns", named("tp"));
  ASSERT_TRUE(policy.ok());
  auto event = createEvent(
      *api_, *policy, EventInfo{"Warning", "ServiceNotFound", "no such Service", "weft-operator"});
  ASSERT_TRUE(event.ok()) << event.error().describe();
  auto events = api_->list(resources::events(), "ns", {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 1u);
  const auto& e = events->items[0];
  EXPECT_EQ(e["involvedObject"]["kind"], "TrafficPolicy");
  EXPECT_EQ(e["involvedObject"]["uid"], (*policy)["metadata"]["uid"]);
  EXPECT_EQ(e["reason"], "ServiceNotFound");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("tp.", 0), 0u);
}

TEST_F(ClientTest, RequestsAreRateLimited) {
  auto limited =
      HttpKubeApi::create(config_, HttpKubeApiOptions{20, 1, std::chrono::seconds(10), "t"});
  ASSERT_TRUE(limited.ok());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*limited)->list(resources::pods(), "", {}).ok());
  }
  // Burst 1 at 20/s: the 4 requests after the first wait 50 ms each.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(190));
}

}  // namespace
}  // namespace weft::kube::testing
