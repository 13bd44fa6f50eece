// Integration harness for weft-proxy: real proxy and backend processes on
// loopback, a blocking HTTP/1.1 client with deadlines, and helpers to wait
// for conditions with bounded polling.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"

namespace weft::testing {

using namespace std::chrono_literals;

// A fresh directory under /tmp, removed with its files on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Polls `cond` every 10 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s);

// A free loopback port (bound once and released; good enough on loopback).
unsigned short freePort();

// Runs weft-test-backend; port() is known once it prints "listening on".
class Backend {
 public:
  Backend(const TempDir& dir, const std::string& name, unsigned short port = 0,
          std::vector<std::string> extra = {});
  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void kill();
  bool running() { return child_ && child_->running(); }

 private:
  std::unique_ptr<Child> child_;
  unsigned short port_ = 0;
};

struct ProxyPorts {
  unsigned short outbound = 0;
  unsigned short inbound = 0;
  unsigned short admin = 0;
};

// Runs weft-proxy on the given (or free) ports, with --config unless
// configFile is empty (then `extra` says where configuration comes from).
class Proxy {
 public:
  Proxy(const TempDir& dir, const std::string& configFile, std::vector<std::string> extra = {},
        ProxyPorts ports = {});
  ~Proxy();
  const ProxyPorts& ports() const { return ports_; }
  Child& child() { return *child_; }
  std::string log() const;

 private:
  std::unique_ptr<Child> child_;
  ProxyPorts ports_;
  std::string logFile_;
};

struct Response {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  bool closed = false;                                // the server closed the connection after it
  std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

// A blocking client connection with a deadline on every call.
class Client {
 public:
  explicit Client(unsigned short port, std::chrono::milliseconds timeout = 5s,
                  const std::string& ip = "127.0.0.1");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads one response (the body per its framing; HEAD: none).
  std::optional<Response> read(bool head = false);
  // Reads whatever arrives until `n` bytes or the deadline; "" on close.
  std::string readSome(std::size_t n);
  // True when the peer closed the connection (EOF) before the deadline.
  bool waitClosed(std::chrono::milliseconds timeout);
  void shutdownWrite();

 private:
  bool fill();
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

// A loopback TCP server in a thread: sends `greeting` on accept, then echoes.
class EchoServer {
 public:
  explicit EchoServer(std::string greeting = "");
  ~EchoServer();
  unsigned short port() const { return port_; }

 private:
  void run();
  std::string greeting_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// GET with Host on a new connection; nullopt on any failure.
std::optional<Response> get(unsigned short port, const std::string& host, const std::string& path,
                            std::chrono::milliseconds timeout = 5s);

// A request as bytes: "METHOD path HTTP/1.1", Host, extra header lines, body.
std::string request(const std::string& method, const std::string& path, const std::string& host,
                    const std::vector<std::string>& headers = {}, const std::string& body = "");

// The value of a sample in Prometheus text, summed over series whose label
// text contains every string of `labels` (e.g. {"reason=\"overloaded\""}).
double metricValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels = {});

// An Outbound document (YAML) for `authority` with the given endpoints.
std::string outboundYaml(const std::string& authority, const std::vector<std::string>& endpoints,
                         const std::string& extra = "",
                         const std::vector<std::string>& aliases = {});

}  // namespace weft::testing
