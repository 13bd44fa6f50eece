// SharedCache: what handlers hear, immutable reads, relist diffs, sync.
#include "operator/src/cache/shared_cache.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "operator/src/queue/work_queue.h"

namespace weft::op::cache {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

ObjectPtr object(const std::string& ns, const std::string& name, const std::string& rv) {
  Json meta = {{"name", name}, {"resourceVersion", rv}};
  if (!ns.empty()) {
    meta["namespace"] = ns;
  }
  return std::make_shared<const Json>(Json{{"metadata", meta}});
}

TEST(SharedCacheTest, UpsertRemoveAndReads) {
  SharedCache cache;
  std::vector<CacheEvent> events;
  cache.addHandler([&](const CacheEvent& e) { events.push_back(e); });
  cache.upsert(Kind::kService, object("a", "web", "1"));
  cache.upsert(Kind::kService, object("b", "db", "2"));
  cache.upsert(Kind::kService, object("a", "web", "3"));
  cache.upsert(Kind::kNamespace, object("", "a", "4"));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, CacheEvent::Type::kAdded);
  EXPECT_EQ(events[2].type, CacheEvent::Type::kUpdated);
  EXPECT_EQ((*events[2].oldObject)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(events[3].key, "/a");

  ObjectPtr web = cache.get(Kind::kService, "a/web");
  ASSERT_TRUE(web);
  EXPECT_EQ((*web)["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(cache.list(Kind::kService, "a").size(), 1u);
  EXPECT_EQ(cache.list(Kind::kService).size(), 2u);
  EXPECT_EQ(cache.get(Kind::kPod, "a/web"), nullptr);

  cache.remove(Kind::kService, "a/web");
  cache.remove(Kind::kService, "a/web");  // twice: one event
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4].type, CacheEvent::Type::kDeleted);
  EXPECT_EQ(cache.size(Kind::kService), 1u);
  // A reader keeps its object after the cache moved on.
  EXPECT_EQ((*web)["metadata"]["name"], "web");
}

TEST(SharedCacheTest, ReplaceSwapsTheKindWholeAndReportsTheDifference) {
  SharedCache cache;
  cache.upsert(Kind::kPod, object("n", "stays", "1"));
  cache.upsert(Kind::kPod, object("n", "goes", "1"));
  cache.upsert(Kind::kService, object("n", "other-kind", "1"));
  std::map<std::string, CacheEvent::Type> seen;
  cache.addHandler([&](const CacheEvent& e) { seen[e.key] = e.type; });
  cache.replace(Kind::kPod, {object("n", "stays", "1"), object("n", "new", "2")});
  EXPECT_EQ(seen["n/goes"], CacheEvent::Type::kDeleted);
  EXPECT_EQ(seen["n/new"], CacheEvent::Type::kAdded);
  EXPECT_EQ(seen["n/stays"], CacheEvent::Type::kUpdated);
  EXPECT_EQ(cache.keys(Kind::kPod), (std::vector<std::string>{"n/new", "n/stays"}));
  EXPECT_EQ(cache.size(Kind::kService), 1u);
}

TEST(SharedCacheTest, EnqueueHandlerSkipsUnchangedObjects) {
  SharedCache cache;
  queue::WorkQueue q;
  cache.addHandler(enqueueKeys(q, {Kind::kTrafficPolicy}));
  cache.upsert(Kind::kTrafficPolicy, object("n", "tp", "1"));
  cache.upsert(Kind::kService, object("n", "svc", "1"));  // not a kind we enqueue
  EXPECT_EQ(q.getFor(1s), "n/tp");
  q.done("n/tp");
  cache.replace(Kind::kTrafficPolicy, {object("n", "tp", "1")});  // relist, same RV
  EXPECT_EQ(q.getFor(20ms), std::nullopt);
  cache.replace(Kind::kTrafficPolicy, {});
  EXPECT_EQ(q.getFor(1s), "n/tp");  // deleted while we were not watching
}

TEST(SharedCacheTest, SyncIsSignalled) {
  SharedCache cache;
  EXPECT_FALSE(cache.hasSynced());
  EXPECT_FALSE(cache.waitForSync(5ms));
  cache.synced();
  EXPECT_TRUE(cache.hasSynced());
  EXPECT_TRUE(cache.waitForSync(5ms));
}

}  // namespace
}  // namespace weft::op::cache
