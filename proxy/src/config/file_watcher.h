// FileWatcher: follows a config file and produces a new Snapshot when its content changes,
// keeping the last good one when the new content is invalid.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "proxy/src/config/snapshot.h"

namespace weft::proxy::config {

class FileWatcher {
 public:
  // Called with each new good snapshot, on the thread that ran poll()/reload() (the watcher's
  // own thread after start()). It must not call poll(), reload() or stop() (they would wait
  // for it); post the snapshot to the workers and return.
  using OnChange = std::function<void(SnapshotPtr)>;

  // Loads `path` once; an invalid or unreadable file fails here (bad startup config exits).
  static Result<std::unique_ptr<FileWatcher>> create(std::string path, OnChange onChange = {});

  ~FileWatcher();  // stops the thread, if started
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // The last good snapshot; never null. Thread-safe.
  SnapshotPtr current() const;

  // Checks inode, size and mtime; when they changed and the content differs, reloads. Returns
  // true when a new snapshot was installed. A bad file is counted once per change (not once per
  // poll) and keeps the old snapshot. Thread-safe; calls are serialized.
  bool poll();

  // Reloads unconditionally (SIGHUP). Installs and returns the new snapshot, or returns the
  // error and keeps the old one. Counted like poll(). Thread-safe.
  Result<SnapshotPtr> reload();

  // Polls every `interval` on a thread of its own until stop() or destruction.
  void start(std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  void stop();

  // Plain counters for the metrics owner to export (weft_config_reloads_total{result}).
  std::uint64_t reloadSuccesses() const { return successes_.load(std::memory_order_relaxed); }
  std::uint64_t reloadFailures() const { return failures_.load(std::memory_order_relaxed); }
  // The error of the last failed reload, cleared by a successful one.
  std::optional<Error> lastError() const;

  const std::string& path() const { return path_; }

 private:
  struct FileState {
    bool exists = false;
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtimeSec = 0, mtimeNsec = 0;
    friend bool operator==(const FileState&, const FileState&) = default;
  };

  FileWatcher(std::string path, OnChange onChange);
  FileState statFile() const;
  // Loads and installs (unless unchanged and not forced); pollMutex_ must be held.
  Result<SnapshotPtr> reloadLocked(bool force);

  const std::string path_;
  OnChange onChange_;

  std::mutex pollMutex_;  // serializes poll()/reload() and the callback
  FileState seen_;        // guarded by pollMutex_

  mutable std::mutex stateMutex_;  // guards current_ and lastError_
  SnapshotPtr current_;
  std::optional<Error> lastError_;

  std::atomic<std::uint64_t> successes_{0};
  std::atomic<std::uint64_t> failures_{0};

  std::mutex threadMutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by threadMutex_
  std::thread thread_;
};

}  // namespace weft::proxy::config
