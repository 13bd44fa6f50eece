// Running the iptables tools: a small interface so that the install logic can
// be tested with a fake, and the real implementation on posix_spawn.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace weft::proxy::init {

struct CommandResult {
  int exitCode = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Whether argv[0] names a program that can be run.
  virtual bool available(const std::string& program) = 0;
  // Runs argv (argv[0] looked up like available()), feeding `input` on stdin.
  // An Error only when it could not be started; a failing run is a result.
  virtual Result<CommandResult> run(const std::vector<std::string>& argv,
                                    std::string_view input) = 0;
};

// Looks programs up on PATH and then in /usr/sbin and /sbin (init containers
// often have a PATH without them); kills a run that exceeds `timeout`.
std::unique_ptr<CommandRunner> makeSystemRunner(
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace weft::proxy::init
