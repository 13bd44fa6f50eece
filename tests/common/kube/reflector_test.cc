// Reflector against the fake API server: list then watch, a dropped watch
// resumes without missing events, 410 relists and swaps the view, a 403 is
// surfaced as PermissionDenied and retried.
#include "common/kube/reflector.h"

#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/kube/kube_test_env.h"

namespace weft::kube::testing {
namespace {

// A view kept by a Reflector, as an informer's store would.
struct View {
  std::mutex mu;
  std::map<std::string, Json> objects;
  std::vector<Error> errors;
  int replaces = 0;

  ReflectorHandler handler() {
    return ReflectorHandler{[this](std::vector<Json>&& items, const std::string&) {
                              std::lock_guard lock(mu);
                              objects.clear();
                              for (auto& item : items) {
                                std::string name = item["metadata"]["name"];
                                objects[name] = std::move(item);
                              }
                              ++replaces;
                            },
                            [this](WatchEvent&& event) {
                              std::lock_guard lock(mu);
                              std::string name = event.object["metadata"]["name"];
                              if (event.type == WatchEventType::kDeleted) {
                                objects.erase(name);
                              } else {
                                objects[name] = std::move(event.object);
                              }
                            },
                            [this](const Error& error) {
                              std::lock_guard lock(mu);
                              errors.push_back(error);
                            }};
  }
  std::set<std::string> names() {
    std::lock_guard lock(mu);
    std::set<std::string> out;
    for (const auto& [name, object] : objects) {
      out.insert(name);
    }
    return out;
  }
};

class ReflectorTest : public KubeTestEnv {
 protected:
  void startReflector(const std::string& ns = "ns") {
    ReflectorOptions options;
    options.resource = resources::endpointSlices();
    options.ns = ns;
    options.pageSize = 2;
    options.watchTimeoutSeconds = 30;
    options.initialBackoff = std::chrono::milliseconds(10);
    options.maxBackoff = std::chrono::milliseconds(100);
    reflector_ = std::make_unique<Reflector>(*api_, options, view_.handler());
    thread_ = std::thread([this] { reflector_->run(stop_); });
  }
  void TearDown() override {
    stop_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  void create(const std::string& name) {
    ASSERT_TRUE(api_->create(resources::endpointSlices(), "ns", named(name)).ok());
  }
  std::set<std::string> serverNames() {
    auto all = listAll(*api_, resources::endpointSlices(), "ns", {});
    std::set<std::string> out;
    for (const auto& item : all->items) {
      out.insert(item["metadata"]["name"]);
    }
    return out;
  }

  View view_;
  StopSignal stop_;
  std::unique_ptr<Reflector> reflector_;
  std::thread thread_;
};

TEST_F(ReflectorTest, ListsAllPagesThenFollowsTheWatch) {
  for (auto name : {"a", "b", "c", "d", "e"}) {
    create(name);
  }
  startReflector();
  ASSERT_TRUE(waitFor([&] { return view_.names().size() == 5; }));
  create("f");
  ASSERT_TRUE(api_->remove(resources::endpointSlices(), "ns", "a").ok());
  ASSERT_TRUE(waitFor([&] { return view_.names() == serverNames(); }));
  EXPECT_EQ(view_.names(), (std::set<std::string>{"b", "c", "d", "e", "f"}));
  EXPECT_EQ(reflector_->lists(), 1u);
}

TEST_F(ReflectorTest, DroppedWatchResumesWithoutMissingEvents) {
  create("before");
  startReflector();
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 1; }));
  for (int round = 0; round < 3; ++round) {
    int started = server_->watchesStarted();
    server_->state().dropWatches();
    // Written while no watch is open: the resumed watch must replay them.
    create("during-" + std::to_string(round));
    ASSERT_TRUE(waitFor(
        [&] { return server_->watchesStarted() > started && server_->openWatches() == 1; }));
  }
  ASSERT_TRUE(api_->remove(resources::endpointSlices(), "ns", "before").ok());
  ASSERT_TRUE(waitFor([&] { return view_.names() == serverNames(); }));
  EXPECT_EQ(view_.names(), (std::set<std::string>{"during-0", "during-1", "during-2"}));
  EXPECT_EQ(reflector_->lists(), 1u);  // resumed from the last RV, never relisted
  EXPECT_GE(reflector_->watchRestarts(), 3u);
}

TEST_F(ReflectorTest, ExpiredHistoryRelistsAndSwapsTheViewWhole) {
  create("keep");
  create("gone");
  startReflector();
  ASSERT_TRUE(waitFor([&] { return view_.names().size() == 2; }));
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 1; }));
  // Changes the watch never sees: reads fail while the watch is dropped,
  // then history is compacted, so the resumed watch gets 410 and only a
  // relist can find them.
  server_->state().injectError(resources::endpointSlices().path("ns"), 500, -1, "GET");
  server_->state().dropWatches();
  ASSERT_TRUE(waitFor([&] { return server_->openWatches() == 0; }));
  ASSERT_TRUE(api_->remove(resources::endpointSlices(), "ns", "gone").ok());
  create("new");
  server_->state().compact();
  server_->state().clearInjectedErrors();
  ASSERT_TRUE(waitFor([&] { return view_.names() == serverNames(); }));
  EXPECT_EQ(view_.names(), (std::set<std::string>{"keep", "new"}));
  EXPECT_GE(reflector_->lists(), 2u);
  std::lock_guard lock(view_.mu);
  EXPECT_GE(view_.replaces, 2);
}

TEST_F(ReflectorTest, ForbiddenIsSurfacedAndRetried) {
  create("x");
  server_->state().injectError(resources::endpointSlices().path("ns"), 403, 2);
  startReflector();
  ASSERT_TRUE(waitFor([&] { return view_.names().size() == 1; }));
  std::lock_guard lock(view_.mu);
  ASSERT_EQ(view_.errors.size(), 2u);
  EXPECT_EQ(view_.errors[0].code, ErrorCode::kPermissionDenied);
  EXPECT_NE(view_.errors[0].message.find("forbidden"), std::string::npos);
}

}  // namespace
}  // namespace weft::kube::testing
