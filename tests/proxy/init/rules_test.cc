// Option parsing, validation and rule rendering of `weft-proxy init`.
#include "proxy/src/init/rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::proxy::init {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

// The rule lines only (no comments), which is what iptables acts on.
std::vector<std::string> ruleLines(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : lines(text)) {
    if (!l.starts_with("#")) {
      out.push_back(l);
    }
  }
  return out;
}

// Defaults with one change (designated initializers would warn about the rest).
template <typename Fn>
RawRedirectOptions with(Fn change) {
  RawRedirectOptions raw;
  change(raw);
  return raw;
}

RedirectConfig config(RawRedirectOptions raw = {}) {
  auto c = validate(raw);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : RedirectConfig{};
}

TEST(ParsePorts, ListsRangesSpacesAndDuplicates) {
  auto r = parsePorts(" 80, 443,8000-8010,9000:9001,80 ");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<PortRange>{{80, 80}, {443, 443}, {8000, 8010}, {9000, 9001}}));
  EXPECT_TRUE(parsePorts("").value().empty());
  EXPECT_TRUE(parsePorts("  ").value().empty());
  EXPECT_EQ(parsePorts("1,65535").value(), (std::vector<PortRange>{{1, 1}, {65535, 65535}}));
}

TEST(ParsePorts, RefusesBadEntriesNamingThem) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const auto& c :
       {Case{"0", "'0' is not a port (expected 1-65535)"}, Case{"65536", "'65536' is not a port"},
        Case{"80,http", "'http' is not a port"}, Case{"-1", "'-1' is not a port"},
        Case{"+80", "'+80' is not a port"}, Case{"8 0", "'8 0' is not a port"},
        Case{"99999999999999999999999", "is not a port"}, Case{"80,,443", "empty entry"},
        Case{"80,", "empty entry"}, Case{"9000-8000", "'9000-8000' is a reversed port range"},
        Case{"8000-", "'8000-' is not a port"}, Case{"8000-9000-10000", "is not a port"}}) {
    auto r = parsePorts(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(ParseCidrs, SplitsFamiliesAndCanonicalises) {
  auto r = parseCidrs("10.1.2.3/8, 192.0.2.7,2001:DB8::1/32,::1,0.0.0.0/0,10.0.0.0/8");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<Cidr>{{Family::kIpv4, "10.0.0.0/8"},
                                   {Family::kIpv4, "192.0.2.7/32"},
                                   {Family::kIpv6, "2001:db8::/32"},
                                   {Family::kIpv6, "::1/128"},
                                   {Family::kIpv4, "0.0.0.0/0"}}));
  EXPECT_EQ(parseCidrs("198.51.100.77/27").value().at(0).text, "198.51.100.64/27");
  EXPECT_EQ(parseCidrs("2001:db8:ffff::/33").value().at(0).text, "2001:db8:8000::/33");
}

TEST(ParseCidrs, RefusesBadEntriesNamingThem) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const auto& c :
       {Case{"10.0.0.0/33", "'10.0.0.0/33' is not a CIDR (prefix length must be 0-32)"},
        Case{"2001:db8::/129", "prefix length must be 0-128"},
        Case{"10.0.0/8", "'10.0.0/8' is not a CIDR (bad IPv4 address)"},
        Case{"256.0.0.0/8", "bad IPv4 address"}, Case{"010.0.0.0/8", "bad IPv4 address"},
        Case{"2001:db8:::/32", "bad IPv6 address"}, Case{"10.0.0.0/", "prefix length"},
        Case{"10.0.0.0/-1", "prefix length"}, Case{"10.0.0.0/8/8", "prefix length"},
        Case{"example.com", "bad IPv4 address"}, Case{"10.0.0.0/8,,", "empty entry"}}) {
    auto r = parseCidrs(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(Validate, DefaultsMatchTheDesign) {
  auto c = config();
  EXPECT_EQ(c.proxyUid, 2102u);
  EXPECT_EQ(c.inboundPort, 15106);
  EXPECT_EQ(c.outboundPort, 15101);
  EXPECT_EQ(c.adminPort, 15100);
}

TEST(Validate, ErrorsNameTheOption) {
  struct Case {
    RawRedirectOptions raw;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({with([](auto& o) { o.proxyUid = 0; }), "--proxy-uid 0 is not allowed"});
  cases.push_back(
      {with([](auto& o) { o.proxyUid = 4294967295ull; }), "--proxy-uid 4294967295 is not allowed"});
  cases.push_back({with([](auto& o) { o.inboundPort = 0; }), "--inbound-port 0 is not a port"});
  cases.push_back(
      {with([](auto& o) { o.outboundPort = 65536; }), "--outbound-port 65536 is not a port"});
  cases.push_back({with([](auto& o) { o.inboundPort = 15101; }), "must all differ"});
  cases.push_back({with([](auto& o) { o.outboundPort = 15100; }), "must all differ"});
  cases.push_back({with([](auto& o) { o.skipInboundPorts = "22,x"; }),
                   "--skip-inbound-ports: 'x' is not a port"});
  cases.push_back({with([](auto& o) { o.skipOutboundPorts = "0"; }),
                   "--skip-outbound-ports: '0' is not a port"});
  cases.push_back({with([](auto& o) { o.skipOutboundCidrs = "10.0.0.0/40"; }),
                   "--skip-outbound-cidrs: '10.0.0.0/40' is not a CIDR"});
  for (const auto& c : cases) {
    auto r = validate(c.raw);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr(c.message));
  }
}

TEST(RenderRules, DefaultsIpv4) {
  EXPECT_EQ(ruleLines(renderRules(config(), Family::kIpv4)),
            (std::vector<std::string>{
                "*nat",
                ":WEFT_INBOUND - [0:0]",
                ":WEFT_IN_REDIRECT - [0:0]",
                ":WEFT_OUTPUT - [0:0]",
                ":WEFT_REDIRECT - [0:0]",
                "-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15106",
                "-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports 15101",
                "-A WEFT_INBOUND -p tcp --dport 15100 -j RETURN",
                "-A WEFT_INBOUND -p tcp --dport 15106 -j RETURN",
                "-A WEFT_INBOUND -p tcp --dport 15101 -j RETURN",
                "-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT",
                "-A WEFT_OUTPUT -m owner --uid-owner 2102 -j RETURN",
                "-A WEFT_OUTPUT -o lo -j RETURN",
                "-A WEFT_OUTPUT -d 127.0.0.0/8 -j RETURN",
                "-A WEFT_OUTPUT -p tcp -j WEFT_REDIRECT",
                "-A PREROUTING -p tcp -j WEFT_INBOUND",
                "-A OUTPUT -p tcp -j WEFT_OUTPUT",
                "COMMIT",
            }));
}

TEST(RenderRules, Ipv6UsesItsLoopback) {
  auto v6 = renderRules(config(), Family::kIpv6);
  EXPECT_THAT(v6, HasSubstr("\n-A WEFT_OUTPUT -d ::1/128 -j RETURN\n"));
  EXPECT_THAT(v6, Not(HasSubstr("127.0.0.0/8")));
  // Same shape otherwise.
  auto v4 = renderRules(config(), Family::kIpv4);
  EXPECT_EQ(ruleLines(v6).size(), ruleLines(v4).size());
}

TEST(RenderRules, EachOptionLandsInItsChainBeforeTheRedirect) {
  auto c = config(with([](auto& o) {
    o.proxyUid = 1337;
    o.inboundPort = 16001;
    o.outboundPort = 16002;
    o.skipInboundPorts = "22,8000-8010";
    o.skipOutboundPorts = "5432";
    o.skipOutboundCidrs = "10.0.0.0/8,2001:db8::/32";
  }));
  auto v4 = ruleLines(renderRules(c, Family::kIpv4));
  auto v6 = ruleLines(renderRules(c, Family::kIpv6));
  auto pos = [](const std::vector<std::string>& v, const std::string& line) {
    auto it = std::find(v.begin(), v.end(), line);
    EXPECT_NE(it, v.end()) << "missing: " << line;
    return it - v.begin();
  };
  for (const auto* rules : {&v4, &v6}) {
    auto inRedirect = pos(*rules, "-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT");
    auto outRedirect = pos(*rules, "-A WEFT_OUTPUT -p tcp -j WEFT_REDIRECT");
    EXPECT_LT(pos(*rules, "-A WEFT_INBOUND -p tcp --dport 22 -j RETURN"), inRedirect);
    EXPECT_LT(pos(*rules, "-A WEFT_INBOUND -p tcp --dport 8000:8010 -j RETURN"), inRedirect);
    EXPECT_LT(pos(*rules, "-A WEFT_INBOUND -p tcp --dport 16001 -j RETURN"), inRedirect);
    EXPECT_LT(pos(*rules, "-A WEFT_INBOUND -p tcp --dport 16002 -j RETURN"), inRedirect);
    EXPECT_LT(pos(*rules, "-A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN"), outRedirect);
    EXPECT_LT(pos(*rules, "-A WEFT_OUTPUT -p tcp --dport 5432 -j RETURN"), outRedirect);
    pos(*rules, "-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16001");
    pos(*rules, "-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports 16002");
  }
  EXPECT_LT(pos(v4, "-A WEFT_OUTPUT -d 10.0.0.0/8 -j RETURN"),
            pos(v4, "-A WEFT_OUTPUT -p tcp -j WEFT_REDIRECT"));
  EXPECT_LT(pos(v6, "-A WEFT_OUTPUT -d 2001:db8::/32 -j RETURN"),
            pos(v6, "-A WEFT_OUTPUT -p tcp -j WEFT_REDIRECT"));
  // Each family gets only its own CIDRs.
  EXPECT_EQ(std::count(v4.begin(), v4.end(), "-A WEFT_OUTPUT -d 2001:db8::/32 -j RETURN"), 0);
  EXPECT_EQ(std::count(v6.begin(), v6.end(), "-A WEFT_OUTPUT -d 10.0.0.0/8 -j RETURN"), 0);
}

// What iptables-nft-save prints after one install (rules canonicalised by it).
const char* kSavedAfterInstall = R"(# Generated by iptables-nft-save v1.8.9 (nf_tables)
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j WEFT_INBOUND
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-THING - [0:0]
:WEFT_INBOUND - [0:0]
:WEFT_IN_REDIRECT - [0:0]
:WEFT_OUTPUT - [0:0]
:WEFT_REDIRECT - [0:0]
-A PREROUTING -p tcp -j WEFT_INBOUND
-A PREROUTING -p tcp -j KUBE-THING
-A OUTPUT -p tcp -j WEFT_OUTPUT
-A OUTPUT -p tcp -j WEFT_OUTPUT
-A WEFT_INBOUND -p tcp -m tcp --dport 15100 -j RETURN
-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT
-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15106
COMMIT
)";

TEST(RenderInstall, FreshTableAddsJumpsOnce) {
  auto install = renderInstall(config(), Family::kIpv4, "");
  EXPECT_EQ(install, renderRules(config(), Family::kIpv4));
}

TEST(RenderInstall, DeletesEveryExistingJumpThenAddsOne) {
  auto install = ruleLines(renderInstall(config(), Family::kIpv4, kSavedAfterInstall));
  auto count = [&](const std::string& l) { return std::count(install.begin(), install.end(), l); };
  EXPECT_EQ(count("-D PREROUTING -p tcp -j WEFT_INBOUND"), 1);
  EXPECT_EQ(count("-D OUTPUT -p tcp -j WEFT_OUTPUT"), 2);
  EXPECT_EQ(count("-A PREROUTING -p tcp -j WEFT_INBOUND"), 1);
  EXPECT_EQ(count("-A OUTPUT -p tcp -j WEFT_OUTPUT"), 1);
  // Other people's rules, our chains' own rules and other tables are left alone.
  EXPECT_EQ(count("-D PREROUTING -p tcp -j KUBE-THING"), 0);
  EXPECT_EQ(count("-D WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT"), 0);
  EXPECT_EQ(count("-D PREROUTING -j WEFT_INBOUND"), 0);
  // Deletes come before the adds, and all inside one transaction.
  auto del = std::find(install.begin(), install.end(), "-D OUTPUT -p tcp -j WEFT_OUTPUT");
  auto add = std::find(install.begin(), install.end(), "-A OUTPUT -p tcp -j WEFT_OUTPUT");
  EXPECT_LT(del, add);
  EXPECT_EQ(count("*nat"), 1);
  EXPECT_EQ(count("COMMIT"), 1);
  EXPECT_EQ(install.back(), "COMMIT");
}

TEST(RenderCleanup, RemovesJumpsThenChains) {
  EXPECT_EQ(ruleLines(renderCleanup(kSavedAfterInstall)),
            (std::vector<std::string>{
                "*nat",
                "-D PREROUTING -p tcp -j WEFT_INBOUND",
                "-D OUTPUT -p tcp -j WEFT_OUTPUT",
                "-D OUTPUT -p tcp -j WEFT_OUTPUT",
                "-F WEFT_INBOUND",
                "-F WEFT_IN_REDIRECT",
                "-F WEFT_OUTPUT",
                "-F WEFT_REDIRECT",
                "-X WEFT_INBOUND",
                "-X WEFT_IN_REDIRECT",
                "-X WEFT_OUTPUT",
                "-X WEFT_REDIRECT",
                "COMMIT",
            }));
}

TEST(RenderCleanup, NothingToDoOnACleanTable) {
  EXPECT_EQ(renderCleanup(""), "");
  EXPECT_EQ(renderCleanup("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j KUBE-X\nCOMMIT\n"), "");
  // Only the chains that exist are removed (a half-removed state still cleans up).
  EXPECT_EQ(renderCleanup("*nat\n:WEFT_OUTPUT - [0:0]\nCOMMIT\n"),
            "*nat\n-F WEFT_OUTPUT\n-X WEFT_OUTPUT\nCOMMIT\n");
}

TEST(SaveOutput, OurChainsAndRuleCount) {
  EXPECT_TRUE(hasOurChains(kSavedAfterInstall));
  EXPECT_FALSE(hasOurChains("*nat\n:PREROUTING ACCEPT [0:0]\n:WEFT_OTHER - [0:0]\nCOMMIT\n"));
  EXPECT_FALSE(hasOurChains("*filter\n:WEFT_OUTPUT - [0:0]\nCOMMIT\n"));
  EXPECT_EQ(countRules(kSavedAfterInstall), 8u);
  EXPECT_EQ(countRules(""), 0u);
}

}  // namespace
}  // namespace weft::proxy::init
