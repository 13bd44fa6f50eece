// DirSource: local mode. Reads the watched kinds from the *.yaml, *.yml and
// *.json files of one folder and follows changes (inotify, and a rescan every
// poll interval in case an event is missed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "operator/src/source/source.h"
#include "operator/src/status/clock.h"

namespace weft::op::source {

struct DirSourceOptions {
  std::string path;
  std::chrono::milliseconds pollInterval{100};
  status::Clock clock = status::systemClock();
};

// Every file is read as a whole: a file that does not parse, or holds an
// object without a name, is reported (log, counter, problems()) and the
// objects it held before stay. The same object in two files: the file first
// in name order wins and the other is reported. resourceVersion, uid,
// generation (bumped when anything outside metadata and status changes) and
// creationTimestamp (first seen, unless the file gives one) are synthesised.
// Namespaced objects without a namespace go to "default".
class DirSource final : public Source {
 public:
  static Result<std::unique_ptr<DirSource>> create(DirSourceOptions options);
  ~DirSource() override;

  // Source
  Result<void> start(Sink& sink) override;
  void stop() override;

  // Rescans now, on the caller's thread (the poll loop calls this too).
  void scanNow();

  // Files that failed to parse, ever (a metric).
  std::uint64_t parseErrorsTotal() const { return parseErrors_.load(); }
  // "file: problem" for every file currently broken or conflicting.
  std::vector<std::string> problems() const;

 private:
  explicit DirSource(DirSourceOptions options);

  struct FileState;
  struct Emitted;

  void loop();
  void scanLocked();

  DirSourceOptions options_;
  Sink* sink_ = nullptr;
  std::mutex scanMutex_;  // one scan at a time
  std::map<std::string, std::unique_ptr<FileState>> files_;
  std::map<std::string, std::unique_ptr<Emitted>> emitted_;  // by "Kind|ns/name"
  std::map<std::string, std::set<std::string>> holders_;     // id -> files that hold it
  std::set<std::string> duplicated_;                         // ids held by several files
  std::uint64_t counter_ = 0;
  std::atomic<std::uint64_t> parseErrors_{0};
  mutable std::mutex problemsMutex_;
  std::vector<std::string> problems_;

  std::mutex stopMutex_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  int wakeFd_ = -1;  // eventfd: stop() wakes the loop's poll()
  std::thread thread_;
};

}  // namespace weft::op::source
