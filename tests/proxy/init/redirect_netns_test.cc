// The real redirect: `weft-proxy init` in a fresh network namespace (root
// only), proven with real connections and SO_ORIGINAL_DST, on both backends.
//
// Topology, nothing connected to the host's network and no default route:
//   pod  eth0 192.0.2.1/24 2001:db8:1::1/64   route 198.51.100.0/24, 2001:db8:7::/48 -> peer
//   peer eth0 192.0.2.2/24 2001:db8:1::2/64   lo holds 198.51.100.7, .200, 2001:db8:7::7,
//   2001:db8:7:1::1
// so an un-redirected connect to 198.51.100.7 reaches the peer's listener.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "tests/support/process.h"

namespace weft {
namespace {

using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::runProcess;
using testing::RunResult;

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kEnv = "/usr/bin/env";
// weft-<what>-<pid>-: the pattern tests/e2e/lib/netns.sh reaps when <pid> is gone.
constexpr const char* kPrefix = "weft-init-";

RunResult run(const std::vector<std::string>& argv) {
  return runProcess(argv, "", std::chrono::seconds(20));
}

// Asserts a setup command worked, with its output in the message.
void must(const std::vector<std::string>& argv) {
  auto r = run(argv);
  std::string cmd;
  for (const auto& a : argv) {
    cmd += a + " ";
  }
  ASSERT_EQ(r.exitCode, 0) << cmd << "\n" << r.out << r.err;
}

// Deletes namespaces left behind by earlier runs that died (their pid is gone).
void removeStaleNamespaces() {
  auto r = run({kIp, "netns", "list"});
  std::istringstream in(r.out);
  std::string line;
  for (int i = 0; i < 1000 && std::getline(in, line); ++i) {
    auto name = line.substr(0, line.find(' '));
    if (!name.starts_with(kPrefix)) {
      continue;
    }
    long pid = std::atol(name.c_str() + std::strlen(kPrefix));
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      run({kIp, "netns", "del", name});
    }
  }
}

// A network namespace, deleted on destruction whatever happened.
class Netns {
 public:
  explicit Netns(std::string name) : name_(std::move(name)) {
    auto r = run({kIp, "netns", "add", name_});
    created_ = r.exitCode == 0;
    EXPECT_TRUE(created_) << r.err;
  }
  ~Netns() {
    if (created_) {
      run({kIp, "netns", "del", name_});
    }
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  bool ok() const { return created_; }
  std::vector<std::string> exec(std::vector<std::string> argv) const {
    std::vector<std::string> out{kIp, "netns", "exec", name_};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

 private:
  std::string name_;
  bool created_ = false;
};

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts the probe listener in a namespace and waits (bounded) for READY.
std::unique_ptr<Child> startListener(const Netns& ns, const std::string& ports,
                                     const std::string& log) {
  auto child = std::make_unique<Child>(ns.exec({WEFT_REDIRECT_PROBE, "listen", ports, "60"}), log);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (readAll(log).find("READY") != std::string::npos) {
      return child;
    }
    if (!child->running()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "listener on " << ports << " did not start: " << readAll(log);
  return child;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string backendName(const ::testing::TestParamInfo<std::string>& p) { return p.param; }

class RedirectTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (ip netns, iptables)";
    }
    removeStaleNamespaces();
    static int counter = 0;
    std::string base = kPrefix + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    pod_ = std::make_unique<Netns>(base + "-pod");
    peer_ = std::make_unique<Netns>(base + "-peer");
    ASSERT_TRUE(pod_->ok() && peer_->ok());
    logDir_ = ::testing::TempDir() + base;
    std::filesystem::create_directories(logDir_);
    // The veth pair is created inside the pod namespace, so it never exists on the host.
    must(pod_->exec({kIp, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"}));
    must(pod_->exec({kIp, "link", "set", "peer0", "netns", peer_->name()}));
    must(peer_->exec({kIp, "link", "set", "peer0", "name", "eth0"}));
    for (const auto* ns : {pod_.get(), peer_.get()}) {
      bool isPod = ns == pod_.get();
      must(ns->exec({kIp, "link", "set", "lo", "up"}));
      must(ns->exec({kIp, "addr", "add", isPod ? "192.0.2.1/24" : "192.0.2.2/24", "dev", "eth0"}));
      must(ns->exec({kIp, "-6", "addr", "add", isPod ? "2001:db8:1::1/64" : "2001:db8:1::2/64",
                     "dev", "eth0", "nodad"}));
      must(ns->exec({kIp, "link", "set", "eth0", "up"}));
    }
    must(pod_->exec({kIp, "route", "add", "198.51.100.0/24", "via", "192.0.2.2"}));
    must(pod_->exec({kIp, "-6", "route", "add", "2001:db8:7::/48", "via", "2001:db8:1::2"}));
    must(peer_->exec({kIp, "addr", "add", "198.51.100.7/32", "dev", "lo"}));
    must(peer_->exec({kIp, "addr", "add", "198.51.100.200/32", "dev", "lo"}));
    must(peer_->exec({kIp, "-6", "addr", "add", "2001:db8:7::7/128", "dev", "lo"}));
    must(peer_->exec({kIp, "-6", "addr", "add", "2001:db8:7:1::1/128", "dev", "lo"}));
  }

  void TearDown() override {
    // Processes first (they hold the namespaces), then the namespaces.
    listeners_.clear();
    peer_.reset();
    pod_.reset();
    if (!logDir_.empty()) {
      std::filesystem::remove_all(logDir_);
    }
  }

  RunResult init(std::vector<std::string> flags, const std::string& backend = "") {
    std::vector<std::string> argv{
        kEnv, "WEFT_IPTABLES_BACKEND=" + (backend.empty() ? GetParam() : backend), WEFT_PROXY_BIN,
        "init"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run(pod_->exec(argv));
  }

  std::string save(const Netns& ns, const std::string& family, const std::string& backend = "") {
    auto r = run(ns.exec({family + "-" + (backend.empty() ? GetParam() : backend) + "-save"}));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return r.out;
  }

  // The probe's one-line answer from inside a namespace.
  std::string connect(const Netns& from, const std::string& address, int port, int uid = -1) {
    std::vector<std::string> argv{WEFT_REDIRECT_PROBE, "connect", address, std::to_string(port)};
    if (uid >= 0) {
      argv.push_back(std::to_string(uid));
    }
    auto r = run(from.exec(argv));
    return r.out + r.err;
  }

  void listen(const Netns& ns, const std::string& ports) {
    listeners_.push_back(
        startListener(ns, ports, logDir_ + "/" + ns.name() + "-" + ports + ".log"));
  }

  std::unique_ptr<Netns> pod_;
  std::unique_ptr<Netns> peer_;
  std::string logDir_;
  std::vector<std::unique_ptr<Child>> listeners_;
};

TEST_P(RedirectTest, RedirectsAndBypassesAsDesigned) {
  auto r = init({"--skip-outbound-ports", "9999", "--skip-inbound-ports", "8081,9000-9010",
                 "--skip-outbound-cidrs", "198.51.100.128/25,2001:db8:7:1::/64"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("using the iptables " + GetParam() + " backend"));
  listen(*pod_, "15101,15106,15100,8081,9005");
  listen(*peer_, "80,9999,8080");
  ASSERT_FALSE(HasFailure());

  // Outbound to an arbitrary address lands on 15101, naming the real destination.
  EXPECT_THAT(connect(*pod_, "198.51.100.7", 80),
              HasSubstr("local=127.0.0.1:15101 orig=198.51.100.7:80 "));
  EXPECT_THAT(connect(*pod_, "198.51.100.7", 80, 1000),
              HasSubstr("local=127.0.0.1:15101 orig=198.51.100.7:80 "));
  EXPECT_THAT(connect(*pod_, "2001:db8:7::7", 80),
              HasSubstr("local=[::1]:15101 orig=[2001:db8:7::7]:80 "));
  // A destination nothing listens for still lands on the proxy (it decides).
  EXPECT_THAT(connect(*pod_, "198.51.100.9", 443),
              HasSubstr("local=127.0.0.1:15101 orig=198.51.100.9:443 "));

  // The proxy's UID, skipped ports and skipped CIDRs reach the real destination.
  EXPECT_THAT(connect(*pod_, "198.51.100.7", 80, 2102),
              HasSubstr("OK LANDED local=198.51.100.7:80 orig=none peer=192.0.2.1:"));
  EXPECT_THAT(connect(*pod_, "2001:db8:7::7", 80, 2102),
              HasSubstr("OK LANDED local=[2001:db8:7::7]:80 orig=none"));
  EXPECT_THAT(connect(*pod_, "198.51.100.7", 9999),
              HasSubstr("OK LANDED local=198.51.100.7:9999 orig=none"));
  EXPECT_THAT(connect(*pod_, "198.51.100.200", 80),
              HasSubstr("OK LANDED local=198.51.100.200:80 orig=none"));
  EXPECT_THAT(connect(*pod_, "2001:db8:7:1::1", 80),
              HasSubstr("OK LANDED local=[2001:db8:7:1::1]:80 orig=none"));

  // Loopback and the pod's own IP go straight to the app.
  EXPECT_THAT(connect(*pod_, "127.0.0.1", 8081), HasSubstr("OK LANDED local=127.0.0.1:8081 "));
  EXPECT_THAT(connect(*pod_, "192.0.2.1", 8081), HasSubstr("OK LANDED local=192.0.2.1:8081 "));

  // Inbound to an app port lands on 15106 with the original port.
  EXPECT_THAT(connect(*peer_, "192.0.2.1", 8080),
              HasSubstr("local=192.0.2.1:15106 orig=192.0.2.1:8080 peer=192.0.2.2:"));
  EXPECT_THAT(connect(*peer_, "2001:db8:1::1", 8080),
              HasSubstr("local=[2001:db8:1::1]:15106 orig=[2001:db8:1::1]:8080 "));
  // Skipped inbound ports and the admin port are reached directly.
  EXPECT_THAT(connect(*peer_, "192.0.2.1", 8081), HasSubstr("OK LANDED local=192.0.2.1:8081 "));
  EXPECT_THAT(connect(*peer_, "192.0.2.1", 9005), HasSubstr("OK LANDED local=192.0.2.1:9005 "));
  EXPECT_THAT(connect(*peer_, "192.0.2.1", 15100), HasSubstr("OK LANDED local=192.0.2.1:15100 "));
}

TEST_P(RedirectTest, IdempotentAndCleanupRestoresACleanTable) {
  ASSERT_EQ(init({}).exitCode, 0);
  auto once4 = save(*pod_, "iptables");
  auto once6 = save(*pod_, "ip6tables");
  auto second = init({"--skip-outbound-ports", "9999"});
  ASSERT_EQ(second.exitCode, 0) << second.err;
  ASSERT_EQ(init({"--skip-outbound-ports", "9999"}).exitCode, 0);
  for (const auto& family : {std::string("iptables"), std::string("ip6tables")}) {
    auto twice = save(*pod_, family);
    EXPECT_EQ(count(twice, "-A PREROUTING -p tcp -j WEFT_INBOUND\n"), 1) << twice;
    EXPECT_EQ(count(twice, "-A OUTPUT -p tcp -j WEFT_OUTPUT\n"), 1) << twice;
    EXPECT_EQ(count(twice, "-j REDIRECT --to-ports 15101"), 1) << twice;
    EXPECT_EQ(count(twice, "--dport 9999 -j RETURN"), 1) << twice;  // the latest options win
    EXPECT_EQ(count(twice, "-A "), count(family == "iptables" ? once4 : once6, "-A ") + 1);
  }

  auto cleanup = init({"--cleanup"});
  ASSERT_EQ(cleanup.exitCode, 0) << cleanup.err;
  for (const auto& family : {std::string("iptables"), std::string("ip6tables")}) {
    auto after = save(*pod_, family);
    EXPECT_THAT(after, Not(HasSubstr("WEFT"))) << after;
    EXPECT_EQ(count(after, "-A "), 0) << after;
  }
  // A second cleanup has nothing to do and succeeds.
  EXPECT_EQ(init({"--cleanup"}).exitCode, 0);

  // And traffic flows directly again.
  listen(*peer_, "80");
  listen(*pod_, "15101");
  EXPECT_THAT(connect(*pod_, "198.51.100.7", 80), HasSubstr("OK LANDED local=198.51.100.7:80 "));
}

// The injected init container gets only NET_ADMIN and NET_RAW; that must be enough.
TEST_P(RedirectTest, NeedsOnlyNetAdminAndNetRaw) {
  auto r =
      run(pod_->exec({kEnv, "WEFT_IPTABLES_BACKEND=" + GetParam(), "setpriv", "--bounding-set",
                      "-all,+net_admin,+net_raw", "--inh-caps", "-all", WEFT_PROXY_BIN, "init"}));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(count(save(*pod_, "iptables"), "-A OUTPUT -p tcp -j WEFT_OUTPUT\n"), 1);
  // Without NET_ADMIN nothing can be read or changed, and it says so.
  r = run(pod_->exec({"setpriv", "--bounding-set", "-all", "--inh-caps", "-all", WEFT_PROXY_BIN,
                      "init", "--cleanup"}));
  EXPECT_NE(r.exitCode, 0);
  EXPECT_THAT(r.err, HasSubstr("NET_ADMIN"));
  EXPECT_EQ(count(save(*pod_, "iptables"), "-A OUTPUT -p tcp -j WEFT_OUTPUT\n"), 1);
}

TEST_P(RedirectTest, BadOptionsChangeNothing) {
  auto r = init({"--skip-outbound-cidrs", "198.51.100.0/24,10.0.0.0/33"});
  EXPECT_NE(r.exitCode, 0);
  EXPECT_THAT(r.err, HasSubstr("'10.0.0.0/33' is not a CIDR"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(save(*pod_, "iptables"), Not(HasSubstr("WEFT")));
}

INSTANTIATE_TEST_SUITE_P(Backends, RedirectTest, ::testing::Values("nft", "legacy"), backendName);

// Auto-detection picks the backend that already holds the pod's rules.
class AutoBackendTest : public RedirectTest {};

TEST_P(AutoBackendTest, FollowsExistingRules) {
  std::string other = GetParam() == "nft" ? "legacy" : "nft";
  // Another component's rule in the pod, on the backend under test.
  auto seeded =
      runProcess(pod_->exec({"iptables-" + GetParam() + "-restore", "--noflush"}),
                 "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp --dport 9 -j ACCEPT\nCOMMIT\n");
  ASSERT_EQ(seeded.exitCode, 0) << seeded.err;
  auto r = init({}, "auto");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("using the iptables " + GetParam() + " backend"));
  EXPECT_THAT(save(*pod_, "iptables"), HasSubstr("-A OUTPUT -p tcp -j WEFT_OUTPUT"));
  EXPECT_THAT(save(*pod_, "iptables", other), Not(HasSubstr("WEFT")));
  // --cleanup finds them there too.
  ASSERT_EQ(init({"--cleanup"}, "auto").exitCode, 0);
  EXPECT_THAT(save(*pod_, "iptables"), Not(HasSubstr("WEFT")));
}

INSTANTIATE_TEST_SUITE_P(Backends, AutoBackendTest, ::testing::Values("nft", "legacy"),
                         backendName);

}  // namespace
}  // namespace weft
