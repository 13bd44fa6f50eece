// DirSource: reading a folder of manifests and following changes to it.
#include "operator/src/source/dir_source.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/json/json.h"

namespace weft::op::source {
namespace {

namespace fs = std::filesystem;
using json::Json;

// Keeps what a source reports; waits for conditions with a deadline.
class FakeSink final : public Sink {
 public:
  void upsert(Kind kind, ObjectPtr object) override {
    std::lock_guard lock(mu_);
    objects_[id(kind, keyOf(*object))] = object;
    ++changes_;
    cv_.notify_all();
  }
  void remove(Kind kind, const std::string& key) override {
    std::lock_guard lock(mu_);
    objects_.erase(id(kind, key));
    ++changes_;
    cv_.notify_all();
  }
  void replace(Kind, std::vector<ObjectPtr>) override { FAIL() << "DirSource does not relist"; }
  void synced() override {
    std::lock_guard lock(mu_);
    ++synced_;
  }

  ObjectPtr get(Kind kind, const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = objects_.find(id(kind, key));
    return it == objects_.end() ? nullptr : it->second;
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return objects_.size();
  }
  int changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }
  int syncedCount() {
    std::lock_guard lock(mu_);
    return synced_;
  }
  template <typename F>
  bool waitFor(F pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      lock.unlock();
      bool ok = pred();
      lock.lock();
      return ok;
    });
  }

 private:
  static std::string id(Kind kind, const std::string& key) { return kindName(kind) + ("|" + key); }
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, ObjectPtr> objects_;
  int changes_ = 0;
  int synced_ = 0;
};

class DirSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("weft-dir-source-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (source_) {
      source_->stop();
    }
    fs::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) {
    // Write beside and rename, as editors and kubectl-like tools do.
    fs::path tmp = dir_ / (".tmp-" + name);
    {
      std::ofstream out(tmp);
      out << text;
    }
    fs::rename(tmp, dir_ / name);
  }
  void start(std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
    auto s = DirSource::create({dir_.string(), poll, [this] { return now_; }});
    ASSERT_TRUE(s.ok()) << s.error().message;
    source_ = std::move(*s);
    ASSERT_TRUE(source_->start(sink_).ok());
  }

  fs::path dir_;
  FakeSink sink_;
  std::unique_ptr<DirSource> source_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::from_time_t(1767225600);
};

TEST_F(DirSourceTest, ReadsEveryKindFromYamlJsonAndLists) {
  write("a.yaml", R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default, namespace: ignored}
spec: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-watched}
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {}}
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
)");
  write("b.json", R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
    "metadata":{"name":"web-1","namespace":"shop","resourceVersion":"999"},"endpoints":[]})");
  write("c.yml",
        "apiVersion: weft.io/v1alpha1\nkind: TrafficRoute\nmetadata: {name: r}\n"
        "spec: {}\nstatus: {conditions: []}\n");
  write("notes.txt", "apiVersion: v1\nkind: Pod\nmetadata: {name: ignored}\n");
  start();
  EXPECT_EQ(sink_.syncedCount(), 1);
  EXPECT_EQ(sink_.size(), 6u);
  ObjectPtr svc = sink_.get(Kind::kService, "shop/web");
  ASSERT_TRUE(svc);
  EXPECT_EQ((*svc)["metadata"]["generation"], 1);
  EXPECT_EQ((*svc)["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_FALSE((*svc)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_TRUE(sink_.get(Kind::kMesh, "/default")) << "cluster-scoped: namespace dropped";
  EXPECT_TRUE(sink_.get(Kind::kPod, "default/p")) << "namespace defaults to default";
  EXPECT_TRUE(sink_.get(Kind::kNamespace, "/shop"));
  ObjectPtr es = sink_.get(Kind::kEndpointSlice, "shop/web-1");
  ASSERT_TRUE(es);
  EXPECT_NE((*es)["metadata"]["resourceVersion"], "999") << "synthesised, not taken from the file";
  ObjectPtr route = sink_.get(Kind::kTrafficRoute, "default/r");
  ASSERT_TRUE(route);
  EXPECT_FALSE(route->contains("status")) << "status belongs to the operator, not the file";
  EXPECT_FALSE(sink_.get(Kind::kPod, "default/ignored"));
}

TEST_F(DirSourceTest, APodKeepsItsStatusAndFollowsItsChanges) {
  write("job.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: pi}\nspec: {}\n"
        "status: {containerStatuses: [{name: pi, state: {running: {}}}]}\n");
  start();
  ObjectPtr running = sink_.get(Kind::kPod, "default/pi");
  ASSERT_TRUE(running);
  EXPECT_TRUE((*running)["status"]["containerStatuses"][0]["state"].contains("running"))
      << "the kubelet's report, which only the file supplies in dir mode";
  write("job.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: pi}\nspec: {}\n"
        "status: {containerStatuses: [{name: pi, state: {terminated: {exitCode: 0}}}]}\n");
  ASSERT_TRUE(sink_.waitFor(
      [&] {
        ObjectPtr p = sink_.get(Kind::kPod, "default/pi");
        return p && (*p)["status"]["containerStatuses"][0]["state"].contains("terminated");
      },
      std::chrono::seconds(2)));
  EXPECT_EQ((*sink_.get(Kind::kPod, "default/pi"))["metadata"]["generation"], 1)
      << "a status change is not a spec change";
}

TEST_F(DirSourceTest, AChangeIsSeenAndBumpsGenerationOnlyForSpec) {
  write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n");
  start();
  ObjectPtr first = sink_.get(Kind::kService, "default/web");
  ASSERT_TRUE(first);
  now_ += std::chrono::hours(1);

  write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 81}]}\n");
  ASSERT_TRUE(sink_.waitFor([&] { return sink_.get(Kind::kService, "default/web") != first; },
                            std::chrono::seconds(2)))
      << "the polling thread sees the change";
  ObjectPtr second = sink_.get(Kind::kService, "default/web");
  EXPECT_EQ((*second)["spec"]["ports"][0]["port"], 81);
  EXPECT_EQ((*second)["metadata"]["generation"], 2);
  EXPECT_EQ((*second)["metadata"]["uid"], (*first)["metadata"]["uid"]);
  EXPECT_EQ((*second)["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_NE((*second)["metadata"]["resourceVersion"], (*first)["metadata"]["resourceVersion"]);

  // Metadata only: a new resourceVersion, the same generation.
  write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {a: b}}\n"
        "spec: {ports: [{port: 81}]}\n");
  source_->scanNow();
  ObjectPtr third = sink_.get(Kind::kService, "default/web");
  EXPECT_EQ((*third)["metadata"]["generation"], 2);
  EXPECT_NE((*third)["metadata"]["resourceVersion"], (*second)["metadata"]["resourceVersion"]);

  // Rewriting identical content sends nothing.
  int changes = sink_.changes();
  write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {a: b}}\n"
        "spec: {ports: [{port: 81}]}\n");
  source_->scanNow();
  EXPECT_EQ(sink_.changes(), changes);
}

TEST_F(DirSourceTest, ABrokenFileKeepsItsPreviousObjects) {
  write("svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {}\n");
  start();
  ASSERT_EQ(sink_.size(), 2u);
  EXPECT_EQ(source_->parseErrorsTotal(), 0u);

  write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web\nspec: [}\n");
  source_->scanNow();
  EXPECT_EQ(sink_.size(), 2u) << "nothing removed";
  EXPECT_EQ(source_->parseErrorsTotal(), 1u);
  ASSERT_EQ(source_->problems().size(), 1u);
  EXPECT_NE(source_->problems()[0].find("svc.yaml"), std::string::npos);
  EXPECT_NE(source_->problems()[0].find("line"), std::string::npos) << source_->problems()[0];

  // A document without a name is as broken as bad YAML.
  write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {}\n");
  source_->scanNow();
  EXPECT_EQ(sink_.size(), 2u);
  EXPECT_EQ(source_->parseErrorsTotal(), 2u);

  write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {}\n");
  source_->scanNow();
  EXPECT_EQ(sink_.size(), 1u) << "fixed: api is gone now";
  EXPECT_TRUE(source_->problems().empty());
}

TEST_F(DirSourceTest, RemovingAFileRemovesItsObjects) {
  write("a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n");
  write("b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n");
  start();
  ASSERT_EQ(sink_.size(), 2u);
  fs::remove(dir_ / "a.yaml");
  ASSERT_TRUE(sink_.waitFor([&] { return sink_.size() == 1u; }, std::chrono::seconds(2)));
  EXPECT_TRUE(sink_.get(Kind::kPod, "default/b"));
}

TEST_F(DirSourceTest, TheFirstFileWinsADuplicate) {
  write("a.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {from: a}}\n");
  write("b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {from: b}}\n");
  start();
  ObjectPtr p = sink_.get(Kind::kPod, "default/p");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["metadata"]["labels"]["from"], "a");
  ASSERT_EQ(source_->problems().size(), 1u);
  EXPECT_NE(source_->problems()[0].find("b.yaml"), std::string::npos);
}

TEST_F(DirSourceTest, GivenCreationTimestampIsKept) {
  write("a.yaml",
        "apiVersion: weft.io/v1alpha1\nkind: TrafficPolicy\nmetadata: {name: p, "
        "creationTimestamp: \"2020-01-01T00:00:00Z\"}\nspec: {}\n");
  start();
  EXPECT_EQ((*sink_.get(Kind::kTrafficPolicy, "default/p"))["metadata"]["creationTimestamp"],
            "2020-01-01T00:00:00Z");
}

TEST(DirSourceCreateTest, RefusesAMissingFolder) {
  auto s = DirSource::create({"/nonexistent/weft/folder"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace weft::op::source
