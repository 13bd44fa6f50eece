// Tests for FileWatcher: reload on change, last good snapshot kept, counters.
#include "proxy/src/config/file_watcher.h"

#include <atomic>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/file.h"

namespace weft::proxy::config {
namespace {

std::string doc(const std::string& authority) {
  return "kind: Outbound\nauthority: " + authority + "\n";
}

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weft-watch-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/proxy.yaml";
    write(doc("a:80"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Atomic replace (a new inode), as editors and ConfigMap updates do.
  void write(const std::string& content) { ASSERT_TRUE(writeFileAtomic(path_, content)); }
  // In-place rewrite (same inode), as `echo > file` does.
  void rewrite(const std::string& content) {
    std::ofstream f(path_, std::ios::trunc);
    f << content;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(FileWatcherTest, RefusesAnInvalidFileAtStart) {
  write(doc("not a valid authority"));
  auto w = FileWatcher::create(path_);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("proxy.yaml: document 1: "), std::string::npos);
  EXPECT_FALSE(FileWatcher::create(dir_ + "/missing.yaml"));
}

TEST_F(FileWatcherTest, ReloadsOnChangeAndKeepsTheLastGoodSnapshot) {
  std::vector<SnapshotPtr> seen;
  auto created = FileWatcher::create(path_, [&](SnapshotPtr s) { seen.push_back(std::move(s)); });
  ASSERT_TRUE(created) << created.error().message;
  FileWatcher& w = **created;
  const SnapshotPtr first = w.current();
  ASSERT_NE(first->findOutbound("a:80"), nullptr);
  EXPECT_FALSE(w.poll());  // nothing changed

  write(doc("b:80"));
  EXPECT_TRUE(w.poll());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], w.current());
  EXPECT_NE(w.current()->findOutbound("b:80"), nullptr);
  EXPECT_EQ(w.current()->findOutbound("a:80"), nullptr);
  EXPECT_EQ(w.reloadSuccesses(), 1u);
  // The old snapshot is still whole for whoever holds it.
  EXPECT_NE(first->findOutbound("a:80"), nullptr);

  const SnapshotPtr good = w.current();
  write("kind: Outbound\nauthority: c:80\npolicy: {retries: {attempts: 0}}\n");
  EXPECT_FALSE(w.poll());
  EXPECT_EQ(w.current(), good);
  EXPECT_EQ(w.reloadFailures(), 1u);
  ASSERT_TRUE(w.lastError());
  EXPECT_NE(w.lastError()->message.find("/policy/retries/attempts"), std::string::npos);
  EXPECT_FALSE(w.poll());  // the same bad file is counted once
  EXPECT_EQ(w.reloadFailures(), 1u);

  rewrite(doc("cc.demo:8080"));  // in place: same inode, new size and mtime
  EXPECT_TRUE(w.poll());
  EXPECT_NE(w.current()->findOutbound("cc.demo:8080"), nullptr);
  EXPECT_FALSE(w.lastError());
  EXPECT_EQ(w.reloadSuccesses(), 2u);
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(FileWatcherTest, IgnoresMetadataOnlyChanges) {
  auto w = FileWatcher::create(path_);
  ASSERT_TRUE(w);
  const SnapshotPtr before = (*w)->current();
  write(doc("a:80"));  // same content, new inode
  EXPECT_FALSE((*w)->poll());
  EXPECT_EQ((*w)->current(), before);
  EXPECT_EQ((*w)->reloadSuccesses(), 0u);
  EXPECT_EQ((*w)->reloadFailures(), 0u);
}

TEST_F(FileWatcherTest, CountsADisappearedFileOnceAndRecovers) {
  auto w = FileWatcher::create(path_);
  ASSERT_TRUE(w);
  const SnapshotPtr before = (*w)->current();
  std::filesystem::remove(path_);
  EXPECT_FALSE((*w)->poll());
  EXPECT_FALSE((*w)->poll());
  EXPECT_EQ((*w)->reloadFailures(), 1u);
  EXPECT_EQ((*w)->current(), before);
  write(doc("d:80"));
  EXPECT_TRUE((*w)->poll());
  EXPECT_NE((*w)->current()->findOutbound("d:80"), nullptr);
}

TEST_F(FileWatcherTest, ReloadIsUnconditionalAndReportsErrors) {
  auto w = FileWatcher::create(path_);
  ASSERT_TRUE(w);
  auto same = (*w)->reload();
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ((*w)->reloadSuccesses(), 1u);
  write("kind: Outbound\n");
  auto bad = (*w)->reload();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/authority: required"), std::string::npos);
  EXPECT_EQ((*w)->current(), *same);
  EXPECT_EQ((*w)->reloadFailures(), 1u);
}

TEST_F(FileWatcherTest, ItsThreadPicksUpChanges) {
  std::atomic<int> changes{0};
  auto w = FileWatcher::create(path_, [&](SnapshotPtr) { changes.fetch_add(1); });
  ASSERT_TRUE(w);
  (*w)->start(std::chrono::milliseconds(10));
  write(doc("e:80"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (changes.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(changes.load(), 1);
  EXPECT_NE((*w)->current()->findOutbound("e:80"), nullptr);
  (*w)->stop();
  (*w)->stop();  // idempotent
}

}  // namespace
}  // namespace weft::proxy::config
