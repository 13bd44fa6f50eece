// weft-sample's addresses and URLs, and a deadline that ends a silent read.
#include "examples/sample/net.h"

#include <gtest/gtest.h>

namespace weft::sample {
namespace {

TEST(HostPortTest, ParsesIpv4NamesAndBracketedIpv6) {
  auto a = parseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = parseHostPort("[::1]:15101");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->text(), "[::1]:15101");
  auto c = parseHostPort("backend.demo:80");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->text(), "backend.demo:80");
}

TEST(HostPortTest, RefusesWhatIsNotAddrPort) {
  for (const char* bad : {"127.0.0.1", ":8080", "host:", "host:http", "host:65536", "host:-1",
                          "::1:8080", "[::1]8080", "[::1", "host:0"}) {
    auto r = parseHostPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(parseHostPort("::1:8080").error().message.find("brackets"), std::string::npos);
  EXPECT_TRUE(parseHostPort("0.0.0.0:0", true).ok());
}

TEST(UrlTest, SplitsAuthorityAndTarget) {
  auto u = parseUrl("http://backend.demo.svc.cluster.local:8080/api/v1?x=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->hostPort.host, "backend.demo.svc.cluster.local");
  EXPECT_EQ(u->hostPort.port, 8080);
  EXPECT_EQ(u->authority, "backend.demo.svc.cluster.local:8080");
  EXPECT_EQ(u->target, "/api/v1?x=1");
  auto d = parseUrl("http://backend");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hostPort.port, 80);
  EXPECT_EQ(d->authority, "backend");
  EXPECT_EQ(d->target, "/");
  auto q = parseUrl("http://[2001:db8::1]?a=b");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->hostPort.host, "2001:db8::1");
  EXPECT_EQ(q->hostPort.port, 80);
  EXPECT_EQ(q->target, "/?a=b");
}

TEST(UrlTest, RefusesOtherSchemesAndOddURLs) {
  EXPECT_NE(parseUrl("https://a/").error().message.find("only http://"), std::string::npos);
  EXPECT_FALSE(parseUrl("backend:8080").ok());
  EXPECT_FALSE(parseUrl("http://").ok());
  EXPECT_FALSE(parseUrl("http://user@host/").ok());
  EXPECT_FALSE(parseUrl("http://host/a b").ok());
  EXPECT_FALSE(parseUrl("http://host:99999/").ok());
}

TEST(SocketTest, AReadFromASilentPeerEndsAtItsDeadline) {
  auto listener = listenTcp({"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  auto addresses = resolve({"127.0.0.1", localPort(*listener)});
  ASSERT_TRUE(addresses.ok());
  Socket client;
  ASSERT_EQ(connectTcp(*addresses, Clock::now() + std::chrono::seconds(2), client), Io::kOk);
  std::string buf;
  auto start = Clock::now();
  EXPECT_EQ(readSome(client.fd(), buf, start + std::chrono::milliseconds(100)), Io::kTimeout);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
}

TEST(SocketTest, ConnectingWhereNothingListensIsRefused) {
  std::uint16_t port = 0;
  {
    auto listener = listenTcp({"127.0.0.1", 0});
    ASSERT_TRUE(listener.ok());
    port = localPort(*listener);
  }
  auto addresses = resolve({"127.0.0.1", port});
  ASSERT_TRUE(addresses.ok());
  Socket s;
  EXPECT_EQ(connectTcp(*addresses, Clock::now() + std::chrono::seconds(2), s), Io::kRefused);
  EXPECT_STREQ(toString(Io::kRefused), "connect_refused");
}

TEST(SocketTest, ListeningNeedsAnIpAddress) {
  auto r = listenTcp({"not-an-address", 80});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("must be an IP address"), std::string::npos);
}

}  // namespace
}  // namespace weft::sample
