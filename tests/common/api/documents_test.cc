// Tests for authority and IP:port parsing and retry overrides.
#include "common/api/documents.h"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

TEST(AuthorityTest, NormalizesNamesAndAddresses) {
  auto a = parseAuthority("Backend.Demo.svc.cluster.local.:8080");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "backend.demo.svc.cluster.local");
  EXPECT_EQ(a->port, 8080);
  EXPECT_FALSE(a->isIp);
  EXPECT_EQ(a->str(), "backend.demo.svc.cluster.local:8080");

  auto v4 = parseAuthority("198.51.100.10:80");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->isIp);
  EXPECT_FALSE(v4->isIpv6);

  auto v6 = parseAuthority("[2001:DB8:0:0::1]:443");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_TRUE(v6->isIpv6);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->str(), "[2001:db8::1]:443");
}

TEST(AuthorityTest, RefusesMalformedInput) {
  for (const char* bad :
       {"", "backend", "backend:", "backend:0", "backend:65536", "backend:80x", ":80",
        "-bad.example:80", "bad-.example:80", "a..b:80", "a_b:80", "2001:db8::1:80",
        "[2001:db8::1]80", "[zz::1]:80", "999.1.1.1:80", "host name:80"}) {
    EXPECT_FALSE(parseAuthority(bad)) << "accepted \"" << bad << "\"";
  }
  EXPECT_NE(parseAuthority("2001:db8::1:80").error().message.find("brackets"), std::string::npos);
}

TEST(IpPortTest, AcceptsOnlyAddresses) {
  EXPECT_TRUE(parseIpPort("192.0.2.11:8080"));
  EXPECT_TRUE(parseIpPort("[::1]:1"));
  EXPECT_TRUE(parseIpPort("127.0.0.1:65535"));
  EXPECT_FALSE(parseIpPort("backend:8080"));
  EXPECT_FALSE(parseIpPort("192.0.2.256:80"));
  EXPECT_FALSE(parseIpPort("192.0.2.1"));
}

TEST(RetryOverrideTest, OverridesOnlyTheGivenFields) {
  Retries base;
  base.nonIdempotent = true;
  RetryOverride o;
  o.attempts = 2;
  o.on = std::vector<RetryOn>{{RetryOn::Kind::kServerError, 0}};
  Retries merged = applyOverride(base, o);
  EXPECT_EQ(merged.attempts, 2);
  ASSERT_EQ(merged.on.size(), 1u);
  EXPECT_EQ(merged.on[0].kind, RetryOn::Kind::kServerError);
  EXPECT_TRUE(merged.nonIdempotent);
  EXPECT_EQ(merged.backoff, base.backoff);
  EXPECT_EQ(merged.budget, base.budget);
}

}  // namespace
}  // namespace weft::api
