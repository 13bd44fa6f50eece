// runInit and backend choice against a fake iptables (no privileges needed).
#include "proxy/src/init/init.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "proxy/src/init/command.h"
#include "proxy/src/init/iptables.h"

namespace weft::proxy::init {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A fake iptables: `*-save` prints tables_[program]; `*-restore` records its
// input (and fails when told to).
class FakeRunner final : public CommandRunner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };

  std::set<std::string> programs;
  std::map<std::string, std::string> tables;
  std::map<std::string, CommandResult> failures;
  std::vector<Call> calls;

  void installAll() {
    for (const char* p :
         {"iptables-nft-save", "iptables-nft-restore", "ip6tables-nft-save",
          "ip6tables-nft-restore", "iptables-legacy-save", "iptables-legacy-restore",
          "ip6tables-legacy-save", "ip6tables-legacy-restore"}) {
      programs.insert(p);
    }
  }

  std::vector<Call> restores() const {
    std::vector<Call> out;
    for (const auto& c : calls) {
      if (c.argv[0].ends_with("-restore")) {
        out.push_back(c);
      }
    }
    return out;
  }

  // CommandRunner
  bool available(const std::string& program) override { return programs.contains(program); }
  Result<CommandResult> run(const std::vector<std::string>& argv, std::string_view input) override {
    calls.push_back({argv, std::string(input)});
    if (!programs.contains(argv[0])) {
      return makeError(ErrorCode::kNotFound, argv[0] + ": not found");
    }
    if (auto f = failures.find(argv[0]); f != failures.end()) {
      return f->second;
    }
    CommandResult r;
    r.exitCode = 0;
    if (argv[0].ends_with("-save")) {
      r.out = tables[argv[0]];
    }
    return r;
  }
};

// A fake /proc with or without IPv6.
class FakeProc {
 public:
  FakeProc(bool ipv6, bool disabled, bool globalAddress = true) {
    root_ = std::filesystem::temp_directory_path() /
            ("weft-init-proc-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(root_ / "net");
    std::filesystem::create_directories(root_ / "sys/net/ipv6/conf/all");
    if (ipv6) {
      std::ofstream(root_ / "net/if_inet6")
          << "00000000000000000000000000000001 01 80 10 80       lo\n"
          << "fe80000000000000c0ffeefffe000001 02 40 20 80     eth0\n"
          << (globalAddress ? "20010db8000100000000000000000001 02 40 00 80     eth0\n" : "");
    }
    std::ofstream(root_ / "sys/net/ipv6/conf/all/disable_ipv6") << (disabled ? "1\n" : "0\n");
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  std::string path() const { return root_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path root_;
};

const char* kSomeRules =
    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n";
const char* kOurChains =
    "*nat\n:PREROUTING ACCEPT [0:0]\n:WEFT_INBOUND - [0:0]\n"
    "-A PREROUTING -p tcp -j WEFT_INBOUND\nCOMMIT\n";

TEST(DetectIpv6, ReadsProc) {
  EXPECT_EQ(detectIpv6(FakeProc(true, false).path()), Ipv6Support::kEnabled);
  EXPECT_EQ(detectIpv6(FakeProc(true, true).path()), Ipv6Support::kDisabled);
  EXPECT_EQ(detectIpv6(FakeProc(false, false).path()), Ipv6Support::kAbsent);
  EXPECT_EQ(detectIpv6(FakeProc(true, false, false).path()), Ipv6Support::kNoGlobalAddress);
}

TEST(ChooseBackend, PrefersTheOneHoldingOurChainsThenMoreRulesThenNft) {
  FakeRunner r;
  r.installAll();
  EXPECT_EQ(chooseBackend(r, "").value(), Backend::kNft);  // both empty
  r.tables["iptables-legacy-save"] = kSomeRules;
  EXPECT_EQ(chooseBackend(r, "auto").value(), Backend::kLegacy);  // legacy has rules
  r.tables["ip6tables-nft-save"] = kOurChains;
  EXPECT_EQ(chooseBackend(r, "").value(), Backend::kNft);  // ours win over count
  EXPECT_EQ(chooseBackend(r, "legacy").value(), Backend::kLegacy);
  EXPECT_THAT(chooseBackend(r, "iptables").error().message,
              HasSubstr("'iptables' is not nft, legacy or auto"));
}

TEST(ChooseBackend, UsesWhatIsInstalled) {
  FakeRunner r;
  r.programs = {"iptables-legacy-save", "iptables-legacy-restore"};
  EXPECT_EQ(chooseBackend(r, "").value(), Backend::kLegacy);
  EXPECT_THAT(chooseBackend(r, "nft").error().message, HasSubstr("iptables-nft-restore not found"));
  r.failures["iptables-legacy-save"] = CommandResult{1, "", "Permission denied (you must be root)"};
  auto none = chooseBackend(r, "");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr("NET_ADMIN"));
}

TEST(RunInit, DryRunPrintsBothFamiliesAndTouchesNothing) {
  FakeRunner r;
  FakeProc proc(true, false);
  std::ostringstream out;
  InitOptions o;
  o.dryRun = true;
  o.skipOutboundCidrs = "10.0.0.0/8,fd00::/8";
  ASSERT_TRUE(runInit(o, r, proc.path(), out).ok());
  EXPECT_TRUE(r.calls.empty());
  auto text = out.str();
  auto v6At = text.find("# IPv6: ip6tables-restore --noflush\n");
  ASSERT_NE(v6At, std::string::npos) << text;
  EXPECT_EQ(text.find("# IPv4: iptables-restore --noflush\n*nat\n"), 0u) << text;
  EXPECT_LT(text.find("-d 10.0.0.0/8 -j RETURN"), v6At);
  EXPECT_GT(text.find("-d fd00::/8 -j RETURN"), v6At);
}

TEST(RunInit, BadOptionsFailBeforeAnyCommand) {
  FakeRunner r;
  r.installAll();
  FakeProc proc(true, false);
  std::ostringstream out;
  InitOptions o;
  o.skipInboundPorts = "22,99999";
  auto res = runInit(o, r, proc.path(), out);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().message, "--skip-inbound-ports: '99999' is not a port (expected 1-65535)");
  EXPECT_TRUE(r.calls.empty());
}

TEST(RunInit, InstallsOneTransactionPerFamilyWithTheChosenBackend) {
  FakeRunner r;
  r.installAll();
  r.tables["iptables-legacy-save"] = kSomeRules;
  FakeProc proc(true, false);
  std::ostringstream out;
  ASSERT_TRUE(runInit(InitOptions{}, r, proc.path(), out).ok());
  auto restores = r.restores();
  ASSERT_EQ(restores.size(), 2u);
  EXPECT_THAT(restores[0].argv, ElementsAre("iptables-legacy-restore", "--noflush", "--wait=10"));
  EXPECT_THAT(restores[1].argv, ElementsAre("ip6tables-legacy-restore", "--noflush", "--wait=10"));
  EXPECT_THAT(restores[0].input, HasSubstr("-A OUTPUT -p tcp -j WEFT_OUTPUT\nCOMMIT\n"));
  EXPECT_THAT(restores[0].input, HasSubstr("-d 127.0.0.0/8"));
  EXPECT_THAT(restores[1].input, HasSubstr("-d ::1/128"));
  EXPECT_EQ(out.str(), "");
}

TEST(RunInit, SecondRunDeletesTheOldJumps) {
  FakeRunner r;
  r.installAll();
  r.tables["iptables-nft-save"] = kOurChains;
  FakeProc proc(false, false);
  std::ostringstream out;
  InitOptions o;
  o.backend = "nft";
  ASSERT_TRUE(runInit(o, r, proc.path(), out).ok());
  auto restores = r.restores();
  ASSERT_EQ(restores.size(), 1u);  // no IPv6 stack: IPv4 only
  EXPECT_THAT(restores[0].argv, ElementsAre("iptables-nft-restore", "--noflush"));
  EXPECT_THAT(restores[0].input, HasSubstr("-D PREROUTING -p tcp -j WEFT_INBOUND\n"));
}

TEST(RunInit, Ipv6FailureIsFatalOnlyWhenThePodHasIpv6) {
  struct Case {
    bool disabled;
    bool globalAddress;
    bool fatal;
  };
  for (auto [disabled, globalAddress, fatal] :
       {Case{false, true, true}, Case{true, true, false}, Case{false, false, false}}) {
    FakeRunner r;
    r.installAll();
    r.failures["ip6tables-nft-restore"] =
        CommandResult{2, "",
                      "ip6tables-restore: unable to initialize table 'nat'\nError occurred at "
                      "line: 1\nTry more\n"};
    FakeProc proc(true, disabled, globalAddress);
    std::ostringstream out;
    auto res = runInit(InitOptions{}, r, proc.path(), out);
    EXPECT_EQ(r.restores().size(), 2u);
    if (!fatal) {
      EXPECT_TRUE(res.ok());
    } else {
      ASSERT_FALSE(res.ok());
      EXPECT_EQ(res.error().message,
                "IPv6: ip6tables-nft-restore --noflush failed (exit 2): ip6tables-restore: unable "
                "to initialize table 'nat'; Error occurred at line: 1");
    }
  }
}

TEST(RunInit, CleanupRemovesOnlyWhatExists) {
  FakeRunner r;
  r.installAll();
  r.tables["iptables-nft-save"] = kOurChains;
  FakeProc proc(true, false);
  std::ostringstream out;
  InitOptions o;
  o.cleanup = true;
  ASSERT_TRUE(runInit(o, r, proc.path(), out).ok());
  auto restores = r.restores();
  ASSERT_EQ(restores.size(), 1u);  // the IPv6 table holds nothing of ours
  EXPECT_EQ(
      restores[0].input,
      "*nat\n-D PREROUTING -p tcp -j WEFT_INBOUND\n-F WEFT_INBOUND\n-X WEFT_INBOUND\nCOMMIT\n");

  // --cleanup --dry-run prints the same and runs no restore.
  FakeRunner r2;
  r2.installAll();
  r2.tables["iptables-nft-save"] = kOurChains;
  o.dryRun = true;
  ASSERT_TRUE(runInit(o, r2, proc.path(), out).ok());
  EXPECT_TRUE(r2.restores().empty());
  EXPECT_THAT(out.str(), HasSubstr("# IPv4: iptables-nft-restore --noflush\n*nat\n-D PREROUTING"));
  EXPECT_THAT(out.str(),
              HasSubstr("# IPv6: ip6tables-nft-restore --noflush\n# nothing to remove\n"));
  EXPECT_THAT(out.str(), Not(HasSubstr("-A ")));
}

}  // namespace
}  // namespace weft::proxy::init
