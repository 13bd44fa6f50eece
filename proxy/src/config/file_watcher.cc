// FileWatcher: stat polling, reload, last-good-snapshot keeping.
#include "proxy/src/config/file_watcher.h"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include "common/log/log.h"
#include "proxy/src/config/loader.h"

namespace weft::proxy::config {

Result<std::unique_ptr<FileWatcher>> FileWatcher::create(std::string path, OnChange onChange) {
  std::unique_ptr<FileWatcher> w(new FileWatcher(std::move(path), std::move(onChange)));
  // Stat before reading, so that a change racing the first load is seen by the next poll.
  w->seen_ = w->statFile();
  auto first = loadFile(w->path_);
  if (!first) {
    return first.error();
  }
  w->current_ = std::move(first).value();
  return w;
}

FileWatcher::FileWatcher(std::string path, OnChange onChange)
    : path_(std::move(path)), onChange_(std::move(onChange)) {}

FileWatcher::~FileWatcher() { stop(); }

SnapshotPtr FileWatcher::current() const {
  std::lock_guard lock(stateMutex_);
  return current_;
}

std::optional<Error> FileWatcher::lastError() const {
  std::lock_guard lock(stateMutex_);
  return lastError_;
}

FileWatcher::FileState FileWatcher::statFile() const {
  struct stat st {};
  FileState s;
  if (::stat(path_.c_str(), &st) != 0) {
    return s;
  }
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtimeSec = st.st_mtim.tv_sec;
  s.mtimeNsec = st.st_mtim.tv_nsec;
  return s;
}

Result<SnapshotPtr> FileWatcher::reloadLocked(bool force) {
  auto next = loadFile(path_);
  if (!next) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    log::get("proxy.config")
        ->warn("config reload failed, keeping version {}: {}", current()->version(),
               next.error().message);
    std::lock_guard lock(stateMutex_);
    lastError_ = next.error();
    return next.error();
  }
  {
    std::lock_guard lock(stateMutex_);
    lastError_.reset();
    // The version is a hash of the content: same content under new metadata (touch, or an
    // identical rewrite) needs no new snapshot.
    if (!force && current_->version() == (*next)->version()) {
      return current_;
    }
    current_ = *next;
  }
  successes_.fetch_add(1, std::memory_order_relaxed);
  log::get("proxy.config")->info("config reloaded from {}: version {}", path_, (*next)->version());
  if (onChange_) {
    onChange_(*next);
  }
  return next;
}

bool FileWatcher::poll() {
  std::lock_guard lock(pollMutex_);
  FileState now = statFile();
  if (now == seen_) {
    return false;
  }
  seen_ = now;
  if (!now.exists) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    log::get("proxy.config")
        ->warn("config file {} disappeared, keeping version {}", path_, current()->version());
    std::lock_guard stateLock(stateMutex_);
    lastError_ = makeError(ErrorCode::kNotFound, path_ + ": " + std::strerror(ENOENT));
    return false;
  }
  const SnapshotPtr before = current();
  auto loaded = reloadLocked(false);
  return loaded.ok() && *loaded != before;
}

Result<SnapshotPtr> FileWatcher::reload() {
  std::lock_guard lock(pollMutex_);
  seen_ = statFile();
  return reloadLocked(true);
}

void FileWatcher::start(std::chrono::milliseconds interval) {
  std::lock_guard lock(threadMutex_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this, interval] {
    std::unique_lock lk(threadMutex_);
    while (!wake_.wait_for(lk, interval, [this] { return stopping_; })) {
      lk.unlock();
      poll();
      lk.lock();
    }
  });
}

void FileWatcher::stop() {
  std::thread t;
  {
    std::lock_guard lock(threadMutex_);
    stopping_ = true;
    t = std::move(thread_);
  }
  wake_.notify_all();
  if (t.joinable()) {
    t.join();
  }
}

}  // namespace weft::proxy::config
