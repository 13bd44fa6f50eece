// weftctl stat as a command: flag errors, the table, and endpoints that
// refuse, stay silent or serve garbage (real sockets on loopback).
#include "cli/src/stat.h"

#include <atomic>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::cli {
namespace {

using namespace std::chrono_literals;

struct Ran {
  int code;
  std::string out;
  std::string err;
};

Ran stat(StatFlags flags, bool redraw = false) {
  std::ostringstream out, err;
  int code = runStat(flags, out, err, redraw);
  return {code, out.str(), err.str()};
}

TEST(StatFlagsTest, BadFlagsAreOneClearLine) {
  struct Case {
    StatFlags flags;
    std::string error;
  };
  auto with = [](std::vector<std::string> proxies, std::string watch = "", unsigned count = 0,
                 std::string timeout = "1s") {
    StatFlags f;
    f.proxies = std::move(proxies);
    f.watch = std::move(watch);
    f.count = count;
    f.timeout = std::move(timeout);
    return f;
  };
  for (const auto& c : std::vector<Case>{
           {with({}), "name the proxies to watch: --proxy NAME=HOST:PORT"},
           {with({"127.0.0.1:15100"}), "--proxy 127.0.0.1:15100: expected NAME=HOST:PORT"},
           {with({"=127.0.0.1:15100"}), "expected NAME=HOST:PORT"},
           {with({"a=127.0.0.1"}), "--proxy a=127.0.0.1: "},
           {with({"a=127.0.0.1:1", "a=127.0.0.1:2"}), "the name a is given twice"},
           {with({"a=127.0.0.1:1"}, "", 3), "--count needs --watch"},
           {with({"a=127.0.0.1:1"}, "10ms"), "--watch 10ms: expected a duration of at least 100ms"},
           {with({"a=127.0.0.1:1"}, "soon"), "--watch soon: expected a duration"},
           {with({"a=127.0.0.1:1"}, "", 0, "0"), "--timeout 0: expected a duration from 1ms"},
       }) {
    Ran r = stat(c.flags);
    EXPECT_EQ(r.code, 2) << c.error;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("weftctl: error: stat: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(StatTableTest, ShowsEachWorkloadsNumbersAndWhyOneIsDown) {
  Golden g;
  g.inbound.rps = 12.34;
  g.inbound.successRate = 0.9712;
  g.inbound.p50 = 0.0042;
  g.inbound.p99 = 0.250;
  g.mtlsShare = 1.0;
  g.outbound.rps = 3;
  g.outbound.successRate = 0.5;
  g.outbound.p99 = 1.5;
  std::string table =
      renderStatTable({{"backend", "127.0.0.1:15100", g, ""},
                       {"fresh", "127.0.0.1:15101", std::nullopt, ""},
                       {"ghost", "127.0.0.1:1", std::nullopt, "connection refused"}},
                      2.0);
  std::istringstream lines(table);
  std::string header, backend, fresh, ghost, note;
  std::getline(lines, header);
  std::getline(lines, backend);
  std::getline(lines, fresh);
  std::getline(lines, ghost);
  std::getline(lines, note);
  EXPECT_NE(header.find("NAME"), std::string::npos);
  EXPECT_NE(header.find("(last 2.0s)"), std::string::npos) << header;
  std::istringstream cells(backend);
  std::vector<std::string> c{std::istream_iterator<std::string>(cells), {}};
  EXPECT_EQ(c, (std::vector<std::string>{"backend", "up", "12.3", "97.1%", "4.2ms", "250ms", "100%",
                                         "3.0", "50.0%", "1.50s"}))
      << table;
  EXPECT_EQ(fresh.find("fresh"), 0u);
  EXPECT_NE(fresh.find(" up "), std::string::npos) << "answered, but nothing to compare with yet";
  EXPECT_NE(ghost.find(" down "), std::string::npos) << table;
  EXPECT_EQ(note, "  ghost (127.0.0.1:1): connection refused");
}

// A loopback listener that accepts and then, per mode, says nothing or sends `reply`.
class FakeEndpoint {
 public:
  explicit FakeEndpoint(std::string reply = "") : reply_(std::move(reply)) {
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
  ~FakeEndpoint() {
    stop_ = true;
    thread_.join();
    for (int c : accepted_) {
      ::close(c);
    }
    ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      accepted_.push_back(c);
      if (!reply_.empty()) {
        char buf[4096];
        [[maybe_unused]] auto n = ::recv(c, buf, sizeof(buf), 0);
        [[maybe_unused]] auto m = ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::shutdown(c, SHUT_WR);
      }
    }
  }
  std::string reply_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> accepted_;
  std::thread thread_;
};

std::string http200(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(StatTest, SilentRefusingAndGarbledProxiesShowAsDownWithoutHanging) {
  FakeEndpoint silent;
  FakeEndpoint garbled(http200("weft_requests_total{code=\"200\" 1\n"));
  FakeEndpoint notFound("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  int closedPort = 0;
  {
    FakeEndpoint gone;
    closedPort = std::stoi(gone.address().substr(10));
  }
  StatFlags f;
  f.proxies = {"silent=" + silent.address(), "garbled=" + garbled.address(),
               "missing=" + notFound.address(), "refusing=127.0.0.1:" + std::to_string(closedPort)};
  f.watch = "300ms";
  f.count = 2;
  f.timeout = "200ms";
  auto start = std::chrono::steady_clock::now();
  Ran r = stat(f);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(took, 3s) << "two rounds of 300ms; no scrape may hold them up";
  EXPECT_NE(r.out.find("silent (" + silent.address() + "): no answer within 200ms"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("garbled (" + garbled.address() + "): unreadable /metrics: line 1: "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("missing (" + notFound.address() + "): HTTP 404 from /metrics"),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find("refusing (127.0.0.1:" + std::to_string(closedPort) + "): connection refused"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2 * (1 + 4 + 4) + 1)
      << "two tables of a header, four rows and four notes, a blank line between\n"
      << r.out;
}

TEST(StatTest, OnATerminalTheTableIsRedrawnInPlace) {
  FakeEndpoint metrics(http200("weft_requests_total{direction=\"inbound\",code=\"200\"} 1\n"));
  StatFlags f;
  f.proxies = {"a=" + metrics.address()};
  f.watch = "100ms";
  f.count = 3;
  Ran r = stat(f, true);
  EXPECT_EQ(r.code, 0);
  // Each table is two lines; the second and third start by going back up over the previous one.
  std::size_t redraws = 0;
  for (std::size_t at = r.out.find("\x1b[2F\x1b[J"); at != std::string::npos;
       at = r.out.find("\x1b[2F\x1b[J", at + 1)) {
    ++redraws;
  }
  EXPECT_EQ(redraws, 2u) << r.out;
}

}  // namespace
}  // namespace weft::cli
