// Protocol detection from a connection's first bytes.
#include "proxy/src/tcp/detect.h"

#include <gtest/gtest.h>

namespace weft::proxy::tcp {
namespace {

TEST(DetectTest, Http1RequestLines) {
  EXPECT_EQ(detect("GET / HTTP/1.1\r\n"), Detected::kHttp1);
  EXPECT_EQ(detect("POST "), Detected::kHttp1);
  EXPECT_EQ(detect("OPTIONS * HTTP/1.1"), Detected::kHttp1);
}

TEST(DetectTest, PrefixesWaitForMore) {
  EXPECT_EQ(detect(""), Detected::kNeedMore);
  EXPECT_EQ(detect("G"), Detected::kNeedMore);
  EXPECT_EQ(detect("DELET"), Detected::kNeedMore);
  EXPECT_EQ(detect("P"), Detected::kNeedMore);
}

TEST(DetectTest, EverythingElseIsOpaque) {
  EXPECT_EQ(detect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Detected::kOpaque);  // h2c
  EXPECT_EQ(detect("\x16\x03\x01"), Detected::kOpaque);                      // TLS
  EXPECT_EQ(detect("*1\r\n$4\r\nPING"), Detected::kOpaque);                  // Redis
  EXPECT_EQ(detect("GETX"), Detected::kOpaque);
  EXPECT_EQ(detect("get / HTTP/1.1"), Detected::kOpaque);
}

TEST(DetectTest, DefaultOpaquePorts) {
  auto ports = defaultOpaquePorts();
  for (std::uint16_t p : {25, 587, 3306, 4444, 5432, 6379, 9300, 11211}) {
    EXPECT_NE(std::find(ports.begin(), ports.end(), p), ports.end()) << p;
  }
}

}  // namespace
}  // namespace weft::proxy::tcp
