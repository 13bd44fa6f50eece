// WorkQueue and Workers: dedup, one worker per key, backoff growth, delayed
// adds, resync, shutdown, and workers waiting for the caches to sync.
#include "operator/src/queue/work_queue.h"

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "operator/src/queue/workers.h"

namespace weft::op::queue {
namespace {

using namespace std::chrono_literals;

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

TEST(WorkQueueTest, DeduplicatesWaitingKeys) {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.add("a");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.getFor(1s), "a");
  EXPECT_EQ(q.getFor(1s), "b");
  EXPECT_EQ(q.getFor(10ms), std::nullopt);
}

TEST(WorkQueueTest, AKeyBeingProcessedIsNotHandedOutAgainUntilDone) {
  WorkQueue q;
  q.add("a");
  auto first = q.getFor(1s);
  ASSERT_EQ(first, "a");
  q.add("a");  // changed again while a worker holds it
  q.add("a");
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.getFor(20ms), std::nullopt);
  q.done("a");
  EXPECT_EQ(q.getFor(1s), "a");  // once, for both adds
  q.done("a");
  EXPECT_EQ(q.getFor(20ms), std::nullopt);
}

TEST(ItemBackoffTest, DoublesFrom5MsUpTo1000s) {
  ItemBackoff b(5ms, 1000s);
  EXPECT_EQ(b.next("k"), 5ms);
  EXPECT_EQ(b.next("k"), 10ms);
  EXPECT_EQ(b.next("k"), 20ms);
  EXPECT_EQ(b.next("k"), 40ms);
  EXPECT_EQ(b.next("other"), 5ms);  // per key
  for (int i = 0; i < 40; ++i) {
    b.next("k");
  }
  EXPECT_EQ(b.next("k"), 1000s);
  EXPECT_EQ(b.failures("k"), 45);
  b.forget("k");
  EXPECT_EQ(b.next("k"), 5ms);
}

TEST(WorkQueueTest, RateLimitedAddsWaitTheirBackoff) {
  WorkQueueOptions options;
  options.baseDelay = 40ms;
  WorkQueue q(options);
  auto start = std::chrono::steady_clock::now();
  q.addRateLimited("k");
  EXPECT_EQ(q.len(), 0u);
  ASSERT_EQ(q.getFor(5s), "k");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  q.done("k");
  start = std::chrono::steady_clock::now();
  q.addRateLimited("k");
  ASSERT_EQ(q.getFor(5s), "k");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 80ms);
  EXPECT_EQ(q.numRequeues("k"), 2);
  q.forget("k");
  EXPECT_EQ(q.numRequeues("k"), 0);
}

TEST(WorkQueueTest, DelayedAddsKeepTheEarliestTime) {
  WorkQueue q;
  q.addAfter("k", 10s);
  q.addAfter("k", 30ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.getFor(5s), "k");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  q.done("k");
  EXPECT_EQ(q.getFor(50ms), std::nullopt);  // the later one was merged away
}

TEST(WorkQueueTest, ResyncReAddsEveryKeyPeriodically) {
  WorkQueueOptions options;
  options.resyncPeriod = 20ms;
  options.resyncKeys = [] { return std::vector<std::string>{"a", "b"}; };
  WorkQueue q(options);
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) {
    auto key = q.getFor(2s);
    ASSERT_TRUE(key.has_value());
    ++seen[*key];
    q.done(*key);
  }
  EXPECT_GE(seen["a"], 2);
  EXPECT_GE(seen["b"], 2);
}

TEST(WorkQueueTest, ShutDownWakesGetters) {
  WorkQueue q;
  std::optional<std::string> got = "x";
  std::thread getter([&] { got = q.get(); });
  std::this_thread::sleep_for(10ms);
  q.shutDown();
  getter.join();
  EXPECT_EQ(got, std::nullopt);
  q.add("late");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkersTest, NoKeyRunsOnTwoWorkersAtOnceAndErrorsAreRetried) {
  WorkQueueOptions options;
  options.baseDelay = 1ms;
  options.qps = 0;
  WorkQueue q(options);
  std::mutex mu;
  std::map<std::string, int> running;
  std::map<std::string, int> runs;
  std::atomic<int> overlaps{0};
  std::atomic<int> failuresLeft{10};
  Workers workers(q, 4, [&](const std::string& key) {
    {
      std::lock_guard lock(mu);
      if (++running[key] > 1) {
        ++overlaps;
      }
      ++runs[key];
    }
    std::this_thread::sleep_for(1ms);
    {
      std::lock_guard lock(mu);
      --running[key];
    }
    return failuresLeft-- > 0 ? Outcome::error() : Outcome::done();
  });
  workers.start([] { return true; });
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 5; ++k) {
      q.add("key-" + std::to_string(k));
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return runs.size() == 5 && failuresLeft < 0 && q.len() == 0;
  }));
  workers.stop();
  EXPECT_EQ(overlaps.load(), 0);
}

TEST(WorkersTest, WorkersWaitForTheCachesToSync) {
  WorkQueue q;
  std::atomic<bool> synced{false};
  std::atomic<bool> reconciledBeforeSync{false};
  std::atomic<int> reconciled{0};
  Workers workers(q, 2, [&](const std::string&) {
    if (!synced) {
      reconciledBeforeSync = true;
    }
    ++reconciled;
    return Outcome::done();
  });
  q.add("early");
  workers.start([&] { return synced.load(); });
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(reconciled.load(), 0);
  synced = true;
  ASSERT_TRUE(waitFor([&] { return reconciled.load() == 1; }));
  EXPECT_FALSE(reconciledBeforeSync.load());
  workers.stop();
}

TEST(WorkersTest, RequeueAfterComesBack) {
  WorkQueue q;
  std::atomic<int> runs{0};
  Workers workers(q, 1, [&](const std::string&) {
    return ++runs < 3 ? Outcome::requeueAfter(5ms) : Outcome::done();
  });
  q.add("k");
  workers.start(nullptr);
  ASSERT_TRUE(waitFor([&] { return runs.load() == 3; }));
  workers.stop();
  EXPECT_EQ(q.numRequeues("k"), 0);
}

}  // namespace
}  // namespace weft::op::queue
