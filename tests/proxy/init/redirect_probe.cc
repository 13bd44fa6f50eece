// Tiny listener/client for the redirect tests: the listener answers each
// connection with where it landed and its SO_ORIGINAL_DST; the client prints
// that answer (or why it could not connect).
//
//   redirect_probe listen PORT[,PORT...] [SECONDS]
//   redirect_probe connect ADDRESS PORT [UID]
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr int kConnectTimeoutMs = 3000;

std::string format(const sockaddr_storage& ss) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, buf.data(), buf.size());
    return std::string(buf.data()) + ":" + std::to_string(ntohs(a.sin_port));
  }
  const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
  inet_ntop(AF_INET6, &a.sin6_addr, buf.data(), buf.size());
  return "[" + std::string(buf.data()) + "]:" + std::to_string(ntohs(a.sin6_port));
}

int listenOn(int family, int port) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof a;
  } else {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof a;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void answer(int fd) {
  sockaddr_storage local{}, peer{}, orig{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  len = sizeof peer;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
  len = sizeof orig;
  int rc = local.ss_family == AF_INET ? getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &orig, &len)
                                      : getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &orig, &len);
  std::string line = "LANDED local=" + format(local) +
                     " orig=" + (rc == 0 ? format(orig) : std::string("none")) +
                     " peer=" + format(peer) + "\n";
  (void)!write(fd, line.data(), line.size());
  close(fd);
}

int runListen(const std::string& ports, int seconds) {
  std::vector<pollfd> fds;
  std::size_t start = 0;
  while (start < ports.size()) {
    auto comma = ports.find(',', start);
    int port = std::atoi(ports.substr(start, comma - start).c_str());
    start = comma == std::string::npos ? ports.size() : comma + 1;
    for (int family : {AF_INET, AF_INET6}) {
      int fd = listenOn(family, port);
      if (fd < 0 && family == AF_INET) {
        std::printf("ERROR listen %d: %s\n", port, std::strerror(errno));
        return 1;
      }
      if (fd >= 0) {  // no IPv6 is fine
        fds.push_back(pollfd{fd, POLLIN, 0});
      }
    }
  }
  std::printf("READY\n");
  std::fflush(stdout);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (poll(fds.data(), fds.size(), 200) <= 0) {
      continue;
    }
    for (auto& p : fds) {
      if (p.revents & POLLIN) {
        int c = accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          answer(c);
        }
      }
    }
  }
  return 0;
}

int runConnect(const std::string& address, int port, long uid) {
  if (uid >= 0 && (setgid(static_cast<gid_t>(uid)) != 0 || setuid(static_cast<uid_t>(uid)) != 0)) {
    std::printf("FAIL setuid %s\n", std::strerror(errno));
    return 2;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto& a4 = reinterpret_cast<sockaddr_in&>(ss);
  auto& a6 = reinterpret_cast<sockaddr_in6&>(ss);
  if (inet_pton(AF_INET, address.c_str(), &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof a4;
  } else if (inet_pton(AF_INET6, address.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof a6;
  } else {
    std::printf("FAIL bad address\n");
    return 2;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    std::printf("FAIL connect %s\n", std::strerror(errno));
    return 1;
  }
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, kConnectTimeoutMs) != 1) {
    std::printf("FAIL connect timed out\n");
    return 1;
  }
  int err = 0;
  socklen_t errLen = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen);
  if (err != 0) {
    std::printf("FAIL connect %s\n", std::strerror(err));
    return 1;
  }
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kConnectTimeoutMs);
  while (reply.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd r{fd, POLLIN, 0};
    if (poll(&r, 1, 100) != 1) {
      continue;
    }
    std::array<char, 512> buf;
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    reply.append(buf.data(), static_cast<std::size_t>(n));
  }
  close(fd);
  std::printf("OK %s", reply.empty() ? "no answer\n" : reply.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "listen") {
    return runListen(args[1], args.size() >= 3 ? std::atoi(args[2].c_str()) : 60);
  }
  if (args.size() >= 3 && args[0] == "connect") {
    return runConnect(args[1], std::atoi(args[2].c_str()),
                      args.size() >= 4 ? std::atol(args[3].c_str()) : -1);
  }
  std::fprintf(stderr, "usage: redirect_probe listen PORTS [SECONDS] | connect ADDR PORT [UID]\n");
  return 2;
}
