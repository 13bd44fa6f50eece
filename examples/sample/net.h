// Blocking TCP for weft-sample: addresses, URLs, and socket calls that each
// end by a deadline (or when a stop descriptor becomes readable), so that no
// call can hang.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "common/result.h"

namespace weft::sample {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// How a socket call ended; everything but kOk is a failure the caller counts.
enum class Io {
  kOk,
  kTimeout,
  kRefused,      // connect: nothing listens there
  kUnreachable,  // connect: no route, host down, other connect errors
  kReset,        // the peer reset the connection (or it broke while writing)
  kClosed,       // the peer closed the connection before the message ended
  kStopped,      // the stop descriptor fired
  kTooLarge,     // a head or body over its limit
  kBadMessage,   // bytes that are not the HTTP the caller expected
};
const char* toString(Io io);

// "ADDR:PORT" with an IPv4 address, a name, or a bracketed IPv6 address.
struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string text() const;  // brackets back on for IPv6
};
// Port 0 is allowed only when allowZero (listening on any free port).
Result<HostPort> parseHostPort(std::string_view text, bool allowZero = false);

// An http:// URL: where to connect, the Host header it implies, the request target.
struct Url {
  HostPort hostPort;
  std::string authority;  // as written in the URL ("backend:8080")
  std::string target;     // "/" when the URL has no path
};
Result<Url> parseUrl(std::string_view text);

// Resolved addresses of a host, tried in order by connectTcp.
struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};
Result<std::vector<Address>> resolve(const HostPort& hostPort);

// An owned file descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { reset(); }
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  int release();
  void reset();

 private:
  int fd_ = -1;
};

// A listening socket on hostPort (port 0: any free port).
Result<Socket> listenTcp(const HostPort& hostPort);
std::uint16_t localPort(const Socket& socket);

// Waits for a connection; kStopped when stopFd becomes readable first.
Io acceptTcp(const Socket& listener, int stopFd, Socket& out);

// Connects to the first address that accepts before the deadline.
Io connectTcp(const std::vector<Address>& addresses, Deadline deadline, Socket& out);

// Appends at least one byte to buf. kClosed on EOF. stopFd (-1: none) ends the wait early.
Io readSome(int fd, std::string& buf, Deadline deadline, int stopFd = -1);

Io writeAll(int fd, std::string_view data, Deadline deadline);

// Sleeps until the deadline; false when stopFd (-1: none) fired first.
bool sleepUntil(Deadline deadline, int stopFd);
// True once stopFd (-1: never) is readable.
bool stopRequested(int stopFd);

}  // namespace weft::sample
