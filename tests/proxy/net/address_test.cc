// Listener address parsing and the original-destination fallback.
#include "proxy/src/net/address.h"

#include <gtest/gtest.h>

namespace weft::proxy::net {
namespace {

TEST(AddressTest, ParsesIpPort) {
  auto v4 = parseEndpoint("127.0.0.1:15101");
  ASSERT_TRUE(v4);
  EXPECT_EQ(toString(*v4), "127.0.0.1:15101");
  auto v6 = parseEndpoint("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(toString(*v6), "[::1]:80");
  EXPECT_FALSE(parseEndpoint("localhost:80"));
  EXPECT_FALSE(parseEndpoint("127.0.0.1"));
  EXPECT_FALSE(parseEndpoint("127.0.0.1:70000"));
  EXPECT_FALSE(parseEndpoint("127.0.0.1:8x"));
}

TEST(AddressTest, OriginalDestinationFallsBackToLocalAddress) {
  boost::asio::io_context io;
  Tcp::acceptor acceptor(io, Tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  Tcp::socket server = acceptor.accept();
  bool redirected = true;
  auto dst = originalDestination(server, redirected);
  EXPECT_FALSE(redirected);
  EXPECT_EQ(dst, acceptor.local_endpoint());
}

}  // namespace
}  // namespace weft::proxy::net
