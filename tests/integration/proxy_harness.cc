// Processes, sockets and parsing for the proxy integration tests.
#include "tests/integration/proxy_harness.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::testing {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The number after `marker` in the file, once it appears.
unsigned short waitForPort(const std::string& file, const std::string& marker) {
  unsigned short port = 0;
  waitFor(
      [&] {
        auto text = readAll(file);
        auto pos = text.find(marker);
        if (pos == std::string::npos) {
          return false;
        }
        port = static_cast<unsigned short>(
            std::strtoul(text.c_str() + pos + marker.size(), nullptr, 10));
        return port != 0;
      },
      10s);
  return port;
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/weft-proxy-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  // Through a rename, so a watching proxy never reads half a file.
  std::string tmp = file(name + ".tmp");
  {
    std::ofstream out(tmp);
    out << content;
  }
  std::filesystem::rename(tmp, file(name));
}

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

unsigned short freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

Backend::Backend(const TempDir& dir, const std::string& name, unsigned short port,
                 std::vector<std::string> extra) {
  static int counter = 0;
  std::string log = dir.file("backend-" + name + "-" + std::to_string(++counter) + ".log");
  std::vector<std::string> argv = {WEFT_TEST_BACKEND_BIN, "--name", name, "--port",
                                   std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  child_ = std::make_unique<Child>(argv, log);
  port_ = waitForPort(log, "listening on ");
}

void Backend::kill() {
  if (child_) {
    child_->stop(SIGKILL);
  }
}

Proxy::Proxy(const TempDir& dir, const std::string& configFile, std::vector<std::string> extra,
             ProxyPorts ports) {
  static int counter = 0;
  logFile_ = dir.file("proxy-" + std::to_string(++counter) + ".log");
  auto addr = [](unsigned short p) { return "127.0.0.1:" + std::to_string(p); };
  std::vector<std::string> argv = {WEFT_PROXY_BIN,     "--outbound-listen", addr(ports.outbound),
                                   "--inbound-listen", addr(ports.inbound), "--admin-listen",
                                   addr(ports.admin)};
  if (!configFile.empty()) {
    argv.insert(argv.end(), {"--config", configFile});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  child_ = std::make_unique<Child>(argv, logFile_);
  ports_.outbound = waitForPort(logFile_, "outbound 127.0.0.1:");
  ports_.inbound = waitForPort(logFile_, "inbound 127.0.0.1:");
  ports_.admin = waitForPort(logFile_, "admin 127.0.0.1:");
}

Proxy::~Proxy() {
  if (child_ && child_->running()) {
    child_->stop(SIGKILL);
  }
}

std::string Proxy::log() const { return readAll(logFile_); }

std::string Response::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      return v;
    }
  }
  return "";
}

Client::Client(unsigned short port, std::chrono::milliseconds timeout, const std::string& ip)
    : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  a.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Client::~Client() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool Client::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

void Client::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

// Appends what arrives before the deadline; false on EOF, error or timeout.
bool Client::fill() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) {
    return false;
  }
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    return false;
  }
  buf_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string Client::readSome(std::size_t n) {
  while (buf_.size() < n && fill()) {
  }
  auto out = buf_.substr(0, std::min(n, buf_.size()));
  buf_.erase(0, out.size());
  return out;
}

bool Client::waitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        return true;
      }
      buf_.append(buf, static_cast<std::size_t>(n));
    }
  }
  return false;
}

std::optional<Response> Client::read(bool head) {
  if (fd_ < 0) {
    return std::nullopt;
  }
  Response r;
  std::size_t end;
  for (;;) {
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return std::nullopt;
      }
    }
    std::string head_ = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    std::istringstream lines(head_);
    std::string line;
    std::getline(lines, line);
    if (line.size() < 12 || line.rfind("HTTP/1.", 0) != 0) {
      return std::nullopt;
    }
    r.status = std::atoi(line.c_str() + 9);
    r.reason = line.size() > 13 ? line.substr(13) : "";
    if (!r.reason.empty() && r.reason.back() == '\r') {
      r.reason.pop_back();
    }
    r.headers.clear();
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      r.headers.emplace_back(line.substr(0, colon), v);
    }
    if (r.status >= 100 && r.status < 200 && r.status != 101) {
      continue;  // interim response
    }
    break;
  }
  bool noBody = head || r.status == 204 || r.status == 304 || r.status == 101;
  if (!noBody && iequals(r.header("transfer-encoding"), "chunked")) {
    for (;;) {
      std::size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!fill()) {
          return std::nullopt;
        }
      }
      std::size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
      buf_.erase(0, eol + 2);
      while (buf_.size() < size + 2) {
        if (!fill()) {
          return std::nullopt;
        }
      }
      r.body += buf_.substr(0, size);
      buf_.erase(0, size + 2);
      if (size == 0) {
        break;
      }
    }
  } else if (!noBody && !r.header("content-length").empty()) {
    std::size_t len = std::strtoul(r.header("content-length").c_str(), nullptr, 10);
    while (buf_.size() < len) {
      if (!fill()) {
        return std::nullopt;
      }
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
  } else if (!noBody) {
    while (fill()) {
    }
    r.body = buf_;
    buf_.clear();
    r.closed = true;
  }
  if (iequals(r.header("connection"), "close")) {
    r.closed = true;
  }
  return r;
}

EchoServer::EchoServer(std::string greeting) : greeting_(std::move(greeting)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(fd_, 16);
  socklen_t len = sizeof(a);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

EchoServer::~EchoServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

// Serves one connection at a time; every wait is bounded by poll.
void EchoServer::run() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) {
      continue;
    }
    if (!greeting_.empty()) {
      ::send(c, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
    }
    char buf[65536];
    while (!stop_) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 50) <= 0) {
        continue;
      }
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) {
        break;
      }
      ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    }
    ::close(c);
  }
}

std::optional<Response> get(unsigned short port, const std::string& host, const std::string& path,
                            std::chrono::milliseconds timeout) {
  Client c(port, timeout);
  if (!c.connected() || !c.send(request("GET", path, host))) {
    return std::nullopt;
  }
  return c.read();
}

std::string request(const std::string& method, const std::string& path, const std::string& host,
                    const std::vector<std::string>& headers, const std::string& body) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& h : headers) {
    r += h + "\r\n";
  }
  if (!body.empty()) {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n" + body;
  return r;
}

double metricValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) {
      continue;
    }
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') {
      continue;
    }
    bool all = true;
    for (const auto& l : labels) {
      all = all && line.find(l) != std::string::npos;
    }
    if (all) {
      sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    }
  }
  return sum;
}

std::string outboundYaml(const std::string& authority, const std::vector<std::string>& endpoints,
                         const std::string& extra, const std::vector<std::string>& aliases) {
  std::string y = "kind: Outbound\nversion: \"1\"\nauthority: " + authority + "\n";
  if (!aliases.empty()) {
    y += "aliases: [";
    for (std::size_t i = 0; i < aliases.size(); ++i) {
      y += (i ? ", \"" : "\"") + aliases[i] + "\"";
    }
    y += "]\n";
  }
  y += extra;
  y += "backends:\n  " + authority + ":\n    endpoints:" + (endpoints.empty() ? " []\n" : "\n");
  for (const auto& e : endpoints) {
    y += "      - address: " + e + "\n";
  }
  return y;
}

}  // namespace weft::testing
