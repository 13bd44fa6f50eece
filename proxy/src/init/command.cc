// CommandRunner on posix_spawn, with stdin/stdout/stderr pipes and a deadline.
#include "proxy/src/init/command.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <tuple>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace weft::proxy::init {
namespace {

// iptables-save of a pod is kilobytes; a node's can be megabytes. Past this, something is wrong.
constexpr std::size_t kMaxOutputBytes = 64u << 20;

// Closes an fd once; -1 means none.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// strerror is not thread-safe; this is.
std::string errnoText(int error) { return std::system_category().message(error); }

bool makePipe(Fd& readEnd, Fd& writeEnd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  readEnd.reset(fds[0]);
  writeEnd.reset(fds[1]);
  return true;
}

std::string findProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  }
  std::string dirs;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in this process sets the environment.
  if (const char* path = std::getenv("PATH")) {
    dirs = path;
  }
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    std::string dir = dirs.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) {
      continue;
    }
    std::string candidate = dir;
    candidate += "/";
    candidate += name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

class SystemRunner final : public CommandRunner {
 public:
  explicit SystemRunner(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // CommandRunner
  bool available(const std::string& program) override { return !findProgram(program).empty(); }

  Result<CommandResult> run(const std::vector<std::string>& argv, std::string_view input) override {
    if (argv.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "empty command");
    }
    std::string path = findProgram(argv[0]);
    if (path.empty()) {
      return makeError(ErrorCode::kNotFound, fmt::format("{}: not found", argv[0]));
    }
    Fd inR, inW, outR, outW, errR, errW;
    if (!makePipe(inR, inW) || !makePipe(outR, outW) || !makePipe(errR, errW)) {
      return makeError(ErrorCode::kIo, fmt::format("pipe: {}", errnoText(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, inR.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, outW.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, errW.get(), 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      return makeError(ErrorCode::kIo, fmt::format("{}: {}", path, errnoText(rc)));
    }
    inR.reset();
    outW.reset();
    errW.reset();
    // A blocking write larger than the pipe would wait for the child while the
    // child waits for us to read its output.
    ::fcntl(inW.get(), F_SETFL, O_NONBLOCK);
    if (input.empty()) {
      inW.reset();
    } else {
      // A child that exits before reading all input must not kill us with SIGPIPE.
      ::signal(SIGPIPE, SIG_IGN);
    }

    CommandResult result;
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::string failure;  // set when we stop waiting and kill the child
    std::size_t written = 0;
    while (failure.empty() && (outR.get() >= 0 || errR.get() >= 0)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        failure = fmt::format("killed after {} ms", timeout_.count());
        break;
      }
      std::array<pollfd, 3> fds{pollfd{outR.get(), POLLIN, 0}, pollfd{errR.get(), POLLIN, 0},
                                pollfd{inW.get(), POLLOUT, 0}};
      if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) {
        if (errno == EINTR) {
          continue;
        }
        failure = fmt::format("poll: {}", errnoText(errno));
        break;
      }
      if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
        ssize_t n = ::write(inW.get(), input.data() + written, input.size() - written);
        if (n > 0) {
          written += static_cast<std::size_t>(n);
        }
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          inW.reset();
        }
      }
      for (auto [fdIndex, target, fd] :
           {std::tuple{0, &result.out, &outR}, std::tuple{1, &result.err, &errR}}) {
        if (fds[fdIndex].revents & (POLLIN | POLLERR | POLLHUP)) {
          std::array<char, 8192> buf;
          ssize_t n = ::read(fd->get(), buf.data(), buf.size());
          if (n > 0 && target->size() + static_cast<std::size_t>(n) > kMaxOutputBytes) {
            failure = fmt::format("killed: more than {} bytes of output", kMaxOutputBytes);
            fd->reset();
          } else if (n > 0) {
            target->append(buf.data(), static_cast<std::size_t>(n));
          } else if (n == 0 || errno != EINTR) {
            fd->reset();
          }
        }
      }
    }
    if (!failure.empty()) {
      ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exitCode = (failure.empty() && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    if (!failure.empty()) {
      result.err += "\n(" + failure + ")";
    }
    return result;
  }

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<CommandRunner> makeSystemRunner(std::chrono::milliseconds timeout) {
  return std::make_unique<SystemRunner>(timeout);
}

}  // namespace weft::proxy::init
