// Real child processes for integration tests: run to completion with output
// captured, or keep running in the background until stopped.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace weft::testing {

struct RunResult {
  int exitCode = -1;  // -1: killed by a signal or timed out
  bool timedOut = false;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path), feeding `input` on stdin; kills it after `timeout`.
RunResult runProcess(const std::vector<std::string>& argv, const std::string& input = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A background process; killed (SIGKILL) when destroyed if still running.
// Its stdout and stderr go to the given file (or are inherited when empty).
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& logFile = "");
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` and waits up to `timeout`; returns the exit code, or -1
  // when it died of a signal or had to be killed.
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace weft::testing
