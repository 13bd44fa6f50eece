// The real weft-sample program: sample services and the load generator as
// processes talking over loopback sockets.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json/json.h"
#include "tests/support/process.h"

namespace weft::testing {
namespace {

using namespace std::chrono_literals;
using json::Json;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/weft-sample-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    servers_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Starts `weft-sample serve` on a free loopback port; returns its index.
  std::size_t serve(const std::string& name, const std::string& version,
                    std::vector<std::string> extra = {}) {
    std::string log = dir_ + "/" + name + "-" + std::to_string(servers_.size()) + ".log";
    std::vector<std::string> argv = {WEFT_SAMPLE_BIN, "serve", "--listen",  "127.0.0.1:0",
                                     "--name",        name,    "--version", version};
    argv.insert(argv.end(), extra.begin(), extra.end());
    servers_.push_back({std::make_unique<Child>(argv, log), log, 0});
    auto& s = servers_.back();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (s.port == 0 && std::chrono::steady_clock::now() < deadline) {
      auto text = readFile(log);
      auto at = text.find("listening on 127.0.0.1:");
      if (at != std::string::npos) {
        s.port = std::stoi(text.substr(at + 23));
      } else {
        std::this_thread::sleep_for(10ms);
      }
    }
    EXPECT_NE(s.port, 0) << readFile(log);
    return servers_.size() - 1;
  }
  std::string url(std::size_t server, const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(servers_[server].port) + path;
  }
  Child& child(std::size_t server) { return *servers_[server].child; }

  // Runs `weft-sample load ... --json` and returns its summary.
  Json load(std::vector<std::string> args, RunResult* raw = nullptr) {
    std::vector<std::string> argv = {WEFT_SAMPLE_BIN, "load", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = runProcess(argv, "", 60s);
    if (raw != nullptr) {
      *raw = r;
    }
    EXPECT_EQ(r.exitCode, 0) << r.err;
    auto doc = json::parse(r.out);
    EXPECT_TRUE(doc.ok()) << r.out << r.err;
    return doc.ok() ? *doc : Json::object();
  }

  struct Server {
    std::unique_ptr<Child> child;
    std::string log;
    int port = 0;
  };
  std::string dir_;
  std::vector<Server> servers_;
};

std::uint64_t count(const Json& doc, const char* section, const char* key) {
  return doc[section].value(key, std::uint64_t{0});
}

TEST_F(SampleTest, AnswersWithNameAndVersion) {
  auto s = serve("backend", "v2");
  Json doc = load({"--url", url(s, "/hello"), "--requests", "20", "--concurrency", "2"});
  EXPECT_EQ(doc["requests"], 20);
  EXPECT_EQ(doc["ok"], 20);
  EXPECT_EQ(count(doc, "status", "200"), 20u);
  EXPECT_EQ(count(doc, "versions", "v2"), 20u);
  EXPECT_TRUE(doc["upstream_versions"].empty());
}

TEST_F(SampleTest, ErrorRateIsKeptWithinTolerance) {
  auto s = serve("backend", "v1", {"--error-rate", "0.2"});
  Json doc = load({"--url", url(s), "--requests", "2000", "--concurrency", "4"});
  EXPECT_EQ(doc["requests"], 2000);
  double failed = static_cast<double>(count(doc, "status", "503"));
  // Binomial(2000, 0.2): standard deviation ~18; 5 of them either side.
  EXPECT_NEAR(failed, 400, 90) << doc.dump();
  EXPECT_EQ(doc["failed"].get<double>(), failed) << "every failure is a 503";
  EXPECT_TRUE(doc["errors"].empty());
}

TEST_F(SampleTest, HealthzIsAlwaysUpEvenWhenEveryRequestFails) {
  auto s = serve("backend", "v1", {"--error-rate", "1", "--latency", "1s"});
  auto start = std::chrono::steady_clock::now();
  Json health = load({"--url", url(s, "/healthz"), "--requests", "20"});
  EXPECT_EQ(health["ok"], 20) << "/healthz has neither errors nor latency";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  Json doc = load({"--url", url(s, "/"), "--requests", "4", "--concurrency", "4"});
  EXPECT_EQ(count(doc, "status", "503"), 4u);
}

TEST_F(SampleTest, LatencyAndJitterAreApplied) {
  auto s = serve("backend", "v1", {"--latency", "60ms", "--latency-jitter", "10ms"});
  Json doc = load({"--url", url(s), "--requests", "40", "--concurrency", "4"});
  const Json& latency = doc["latency_ms"];
  EXPECT_GE(latency["p50"].get<double>(), 50) << doc.dump();
  EXPECT_LT(latency["p50"].get<double>(), 100) << doc.dump();
  // No request is faster than latency - jitter.
  EXPECT_GE(latency["mean"].get<double>(), 50) << doc.dump();
  EXPECT_GE(latency["max"].get<double>(), 60) << doc.dump();
}

TEST_F(SampleTest, CallForwardsAndReportsTheUpstreamVersion) {
  auto backend = serve("backend", "v2");
  auto frontend = serve("frontend", "v1", {"--call", url(backend, "/api")});
  Json doc = load({"--url", url(frontend), "--requests", "30", "--concurrency", "3"});
  EXPECT_EQ(doc["ok"], 30);
  EXPECT_EQ(count(doc, "versions", "v1"), 30u);
  EXPECT_EQ(count(doc, "upstream_versions", "v2"), 30u);
}

TEST_F(SampleTest, CallPassesTheUpstreamStatusBack) {
  auto backend = serve("backend", "v2", {"--error-rate", "1"});
  auto frontend = serve("frontend", "v1", {"--call", url(backend)});
  Json doc = load({"--url", url(frontend), "--requests", "10"});
  EXPECT_EQ(count(doc, "status", "503"), 10u);
  EXPECT_EQ(count(doc, "upstream_versions", "v2"), 10u);
}

TEST_F(SampleTest, ADeadUpstreamIsA502AndASlowOneA504) {
  auto backend = serve("backend", "v2", {"--latency", "2s"});
  auto slowCaller = serve("frontend", "v1", {"--call", url(backend), "--call-timeout", "200ms"});
  Json slow = load({"--url", url(slowCaller), "--requests", "2"});
  EXPECT_EQ(count(slow, "status", "504"), 2u) << slow.dump();
  EXPECT_LT(slow["latency_ms"]["max"].get<double>(), 1500) << "the call timeout holds";
  child(backend).stop(SIGKILL);
  auto deadCaller = serve("frontend", "v1", {"--call", url(backend)});
  Json dead = load({"--url", url(deadCaller), "--requests", "3"});
  EXPECT_EQ(count(dead, "status", "502"), 3u) << dead.dump();
}

TEST_F(SampleTest, LoadAtARateIsBoundedAndCountsFailuresWhenTheServerIsKilled) {
  auto s = serve("backend", "v1", {"--latency", "5ms"});
  std::thread killer([&] {
    std::this_thread::sleep_for(700ms);
    child(s).stop(SIGKILL);
  });
  auto start = std::chrono::steady_clock::now();
  Json doc = load({"--url", url(s), "--rate", "200", "--concurrency", "4", "--duration", "2s",
                   "--timeout", "500ms"});
  killer.join();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 5s);
  // 2 s at 200/s: the schedule fixes the count, answered or not.
  EXPECT_NEAR(doc["requests"].get<double>(), 400, 10) << doc.dump();
  EXPECT_GT(doc["ok"].get<double>(), 50) << doc.dump();
  EXPECT_GT(count(doc, "errors", "connect_refused"), 100u) << doc.dump();
  EXPECT_EQ(doc["ok"].get<std::uint64_t>() + doc["failed"].get<std::uint64_t>(),
            doc["requests"].get<std::uint64_t>());
}

TEST_F(SampleTest, LoadStopsAtItsRequestBoundAndPrintsIntervals) {
  auto s = serve("backend", "v1", {"--latency", "10ms"});
  RunResult raw;
  Json doc = load(
      {"--url", url(s), "--requests", "50", "--concurrency", "1", "--interval", "200ms"}, &raw);
  EXPECT_EQ(doc["requests"], 50);
  // About 0.5 s of 10 ms requests: at least one progress line, on stderr with --json.
  EXPECT_NE(raw.err.find("req/s"), std::string::npos) << raw.err;
}

TEST_F(SampleTest, NothingListeningIsCountedAsRefused) {
  auto s = serve("backend", "v1");
  std::string dead = url(s);
  child(s).stop(SIGKILL);
  Json doc = load({"--url", dead, "--requests", "5"});
  EXPECT_EQ(doc["failed"], 5);
  EXPECT_EQ(count(doc, "errors", "connect_refused"), 5u);
}

TEST_F(SampleTest, BadFlagsAreRefusedWithAClearLine) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"load", "--url", "http://127.0.0.1:1/"}, "a bound is required"},
      {{"load", "--url", "http://127.0.0.1:1/", "--requests", "5", "--duration", "1s"}, "give one"},
      {{"load", "--url", "https://127.0.0.1/", "--requests", "5"}, "only http://"},
      {{"load", "--url", "http://127.0.0.1:1/", "--requests", "5", "--concurrency", "0"},
       "--concurrency"},
      {{"load", "--url", "http://127.0.0.1:1/", "--duration", "5"}, "missing unit"},
      {{"load", "--url", "http://127.0.0.1:1/", "--requests", "lots"}, "--requests"},
      {{"serve", "--listen", "127.0.0.1", "--name", "a", "--version", "v1"}, "ADDR:PORT"},
      {{"serve", "--listen", "127.0.0.1:0", "--name", "a"}, "--version is required"},
      {{"serve", "--listen", "127.0.0.1:0", "--name", "a", "--version", "v1", "--error-rate",
        "1.5"},
       "--error-rate"},
      {{"serve", "--listen", "127.0.0.1:0", "--name", "a", "--version", "v1", "--call", "backend"},
       "only http://"},
      {{}, "A subcommand is required"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {WEFT_SAMPLE_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    RunResult r = runProcess(argv, "", 10s);
    SCOPED_TRACE(::testing::PrintToString(c.args));
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
}

// A raw connection for what the load generator never sends.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Everything until the peer closes or `timeout` passes.
  std::string readUntilClose(std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

TEST_F(SampleTest, BadRequestsGetAPreciseErrorAndTheServerStaysUp) {
  auto s = serve("backend", "v1");
  {
    Raw raw(servers_[s].port);
    raw.send("GET / HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n");
    std::string answer = raw.readUntilClose(5s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_NE(answer.find("malformed header field 2"), std::string::npos) << answer;
    EXPECT_TRUE(raw.closed());
  }
  {
    Raw raw(servers_[s].port);
    raw.send("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    std::string answer = raw.readUntilClose(5s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
  }
  {
    Raw raw(servers_[s].port);
    raw.send(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string answer = raw.readUntilClose(5s);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
    EXPECT_NE(answer.find("HTTP/1.1 200", 5), std::string::npos) << "pipelined second request";
  }
  Json doc = load({"--url", url(s), "--requests", "3"});
  EXPECT_EQ(doc["ok"], 3);
}

TEST_F(SampleTest, SigtermFinishesTheRequestInFlightAndExitsCleanly) {
  auto s = serve("backend", "v1", {"--latency", "500ms"});
  Raw idle(servers_[s].port);
  Raw busy(servers_[s].port);
  ASSERT_TRUE(idle.connected() && busy.connected());
  busy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  auto start = std::chrono::steady_clock::now();
  ::kill(child(s).pid(), SIGTERM);
  std::string answer = busy.readUntilClose(5s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_TRUE(idle.readUntilClose(5s).empty());
  EXPECT_TRUE(idle.closed()) << "idle keep-alive connections are closed";
  EXPECT_EQ(child(s).stop(SIGTERM, 5s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
}  // namespace weft::testing
