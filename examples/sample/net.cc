// Blocking TCP with deadlines: every wait is a poll() bounded by the caller's deadline.
#include "examples/sample/net.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

namespace weft::sample {
namespace {

Error invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Milliseconds left until the deadline for poll(), at least 0, rounded up.
int msLeft(Deadline deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 60 * 60 * 1000));
}

// Waits until fd is ready for `events`: kOk, kTimeout or kStopped.
Io waitFor(int fd, short events, Deadline deadline, int stopFd) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {stopFd, POLLIN, 0}};
    int n = ::poll(fds, stopFd >= 0 ? 2 : 1, msLeft(deadline));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Io::kReset;
    }
    if (stopFd >= 0 && fds[1].revents != 0) {
      return Io::kStopped;
    }
    if (n == 0) {
      return Clock::now() >= deadline ? Io::kTimeout : Io::kOk;
    }
    return Io::kOk;
  }
}

Io fromErrno(int err) {
  switch (err) {
    case ECONNREFUSED:
      return Io::kRefused;
    case ETIMEDOUT:
      return Io::kTimeout;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
      return Io::kReset;
    default:
      return Io::kUnreachable;
  }
}

bool setNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Io connectOne(const Address& address, Deadline deadline, Socket& out) {
  Socket s(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.open()) {
    return Io::kUnreachable;
  }
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0) {
    if (errno != EINPROGRESS) {
      return fromErrno(errno);
    }
    if (Io io = waitFor(s.fd(), POLLOUT, deadline, -1); io != Io::kOk) {
      return io;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      err = errno;
    }
    if (err != 0) {
      return fromErrno(err);
    }
  }
  setNoDelay(s.fd());
  out = std::move(s);
  return Io::kOk;
}

}  // namespace

const char* toString(Io io) {
  switch (io) {
    case Io::kOk:
      return "ok";
    case Io::kTimeout:
      return "timeout";
    case Io::kRefused:
      return "connect_refused";
    case Io::kUnreachable:
      return "connect_failed";
    case Io::kReset:
      return "reset";
    case Io::kClosed:
      return "closed";
    case Io::kStopped:
      return "stopped";
    case Io::kTooLarge:
      return "too_large";
    case Io::kBadMessage:
      return "bad_response";
  }
  return "unknown";
}

std::string HostPort::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parseHostPort(std::string_view text, bool allowZero) {
  HostPort out;
  std::string_view portText;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("\"" + std::string(text) + "\": expected [IPv6]:PORT");
    }
    out.host = std::string(text.substr(1, close - 1));
    portText = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return invalid("\"" + std::string(text) + "\": expected ADDR:PORT");
    }
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return invalid("\"" + std::string(text) + "\": put an IPv6 address in brackets, [::1]:8080");
    }
    portText = text.substr(colon + 1);
  }
  if (out.host.empty()) {
    return invalid("\"" + std::string(text) + "\": the address is empty");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (portText.empty() || ec != std::errc() || end != portText.data() + portText.size() ||
      port > 65535 || (port == 0 && !allowZero)) {
    return invalid("\"" + std::string(text) + "\": the port must be a number from " +
                   (allowZero ? "0" : "1") + " to 65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

Result<Url> parseUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return invalid("\"" + std::string(text) + "\": only http:// URLs are supported");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return invalid("\"" + std::string(text) +
                     "\": spaces and control characters are not allowed");
    }
  }
  std::string_view rest = text.substr(kScheme.size());
  rest = rest.substr(0, rest.find('#'));
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("\"" + std::string(text) + "\": user info in URLs is not supported");
  }
  auto bracket = authority.rfind(']');
  bool hasPort = authority.find(':', bracket == std::string_view::npos ? 0 : bracket) !=
                 std::string_view::npos;
  auto hp = parseHostPort(hasPort ? std::string(authority) : std::string(authority) + ":80");
  if (!hp) {
    return hp.error().context("URL \"" + std::string(text) + "\"");
  }
  Url url;
  url.hostPort = *hp;
  url.authority = std::string(authority);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') {
    url.target.insert(0, "/");
  }
  return url;
}

Result<std::vector<Address>> resolve(const HostPort& hostPort) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  int rc =
      ::getaddrinfo(hostPort.host.c_str(), std::to_string(hostPort.port).c_str(), &hints, &list);
  if (rc != 0) {
    // AI_ADDRCONFIG hides loopback-only families in an isolated namespace; try without it.
    hints.ai_flags = 0;
    rc = ::getaddrinfo(hostPort.host.c_str(), std::to_string(hostPort.port).c_str(), &hints, &list);
  }
  if (rc != 0) {
    return makeError(ErrorCode::kNotFound,
                     "cannot resolve \"" + hostPort.host + "\": " + ::gai_strerror(rc));
  }
  std::vector<Address> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.push_back(a);
  }
  ::freeaddrinfo(list);
  return out;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int Socket::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Socket::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Result<Socket> listenTcp(const HostPort& hostPort) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* list = nullptr;
  int rc =
      ::getaddrinfo(hostPort.host.c_str(), std::to_string(hostPort.port).c_str(), &hints, &list);
  if (rc != 0) {
    return invalid("cannot listen on " + hostPort.text() + ": the address must be an IP address");
  }
  Socket s(::socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  bool ok = s.open() && ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            ::bind(s.fd(), list->ai_addr, list->ai_addrlen) == 0 && ::listen(s.fd(), 1024) == 0 &&
            setNonBlocking(s.fd());
  int err = errno;
  ::freeaddrinfo(list);
  if (!ok) {
    return makeError(ErrorCode::kIo,
                     "cannot listen on " + hostPort.text() + ": " + std::strerror(err));
  }
  return s;
}

std::uint16_t localPort(const Socket& socket) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  if (::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return 0;
  }
  return ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                                       : reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

Io acceptTcp(const Socket& listener, int stopFd, Socket& out) {
  for (;;) {
    if (Io io = waitFor(listener.fd(), POLLIN, Clock::now() + std::chrono::hours(1), stopFd);
        io == Io::kStopped) {
      return io;
    }
    int fd = ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      setNoDelay(fd);
      out = Socket(fd);
      return Io::kOk;
    }
    // Out of descriptors: the listener stays readable, so pause instead of spinning.
    // Other errors (EAGAIN, ECONNABORTED) concern one connection only.
    if (errno == EMFILE || errno == ENFILE) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

Io connectTcp(const std::vector<Address>& addresses, Deadline deadline, Socket& out) {
  Io last = Io::kUnreachable;
  for (const auto& a : addresses) {
    last = connectOne(a, deadline, out);
    if (last == Io::kOk || last == Io::kTimeout) {
      return last;
    }
  }
  return last;
}

Io readSome(int fd, std::string& buf, Deadline deadline, int stopFd) {
  for (;;) {
    char chunk[16384];
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
      return Io::kOk;
    }
    if (n == 0) {
      return Io::kClosed;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return fromErrno(errno);
    }
    if (Io io = waitFor(fd, POLLIN, deadline, stopFd); io != Io::kOk) {
      return io;
    }
  }
}

Io writeAll(int fd, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return fromErrno(errno);
    }
    if (Io io = waitFor(fd, POLLOUT, deadline, -1); io != Io::kOk) {
      return io;
    }
  }
  return Io::kOk;
}

bool sleepUntil(Deadline deadline, int stopFd) {
  while (Clock::now() < deadline) {
    pollfd p{stopFd, POLLIN, 0};
    int n = ::poll(&p, stopFd >= 0 ? 1 : 0, msLeft(deadline));
    if (n > 0) {
      return false;
    }
  }
  return true;
}

bool stopRequested(int stopFd) {
  pollfd p{stopFd, POLLIN, 0};
  return stopFd >= 0 && ::poll(&p, 1, 0) > 0;
}

}  // namespace weft::sample
