// weft-sample's HTTP/1.1: heads, framing, chunked bodies, and their limits.
#include "examples/sample/http.h"

#include <gtest/gtest.h>

namespace weft::sample {
namespace {

TEST(RequestHeadTest, ParsesStartLineAndFields) {
  auto r = parseRequestHead("GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Two:  spaced value \r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/a?b=c");
  EXPECT_EQ(r->minorVersion, 1);
  EXPECT_EQ(r->headers.get("host"), "x");
  EXPECT_EQ(r->headers.get("x-two"), "spaced value");
  EXPECT_TRUE(r->keepAlive());
}

TEST(RequestHeadTest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nConnection: close")->keepAlive());
  EXPECT_FALSE(parseRequestHead("GET / HTTP/1.0")->keepAlive());
  EXPECT_TRUE(parseRequestHead("GET / HTTP/1.0\r\nConnection: Keep-Alive")->keepAlive());
  EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nConnection: upgrade, close")->keepAlive());
}

TEST(RequestHeadTest, RefusesMalformedHeadsWithAReason) {
  struct Case {
    const char* head;
    const char* why;
  };
  for (const auto& c : std::vector<Case>{
           {"GET /", "malformed request line"},
           {"GET  HTTP/1.1", "malformed request target"},
           {"G(T / HTTP/1.1", "malformed method"},
           {"GET / HTTP/2.0", "unsupported HTTP version"},
           {"GET / HTTP/1.1\r\nno colon here", "malformed header field 1"},
           {"GET / HTTP/1.1\r\nBad Name: x", "malformed header field 1"},
           {"GET / HTTP/1.1\r\nA: b\r\n folded", "obsolete line folding"},
       }) {
    auto r = parseRequestHead(c.head);
    ASSERT_FALSE(r.ok()) << c.head;
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
  }
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= kMaxHeaders; ++i) {
    many += "X-" + std::to_string(i) + ": v\r\n";
  }
  EXPECT_FALSE(parseRequestHead(many).ok());
}

TEST(FramingTest, RequestFramingIsStrict) {
  auto framing = [](const char* head) { return requestFraming(*parseRequestHead(head)); };
  EXPECT_EQ(framing("GET / HTTP/1.1")->kind, Framing::Kind::kNone);
  auto length = framing("POST / HTTP/1.1\r\nContent-Length: 12");
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(length->kind, Framing::Kind::kLength);
  EXPECT_EQ(length->length, 12u);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5")->length, 5u);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked")->kind,
            Framing::Kind::kChunked);
  for (const char* bad :
       {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6",
        "POST / HTTP/1.1\r\nContent-Length: -1", "POST / HTTP/1.1\r\nContent-Length: 1x",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked"}) {
    EXPECT_FALSE(framing(bad).ok()) << bad;
  }
}

TEST(FramingTest, ResponsesWithoutLengthRunUntilClose) {
  auto response = parseResponseHead("HTTP/1.1 200 OK\r\nX: y");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(responseFraming(*response, false)->kind, Framing::Kind::kUntilClose);
  EXPECT_EQ(responseFraming(*response, true)->kind, Framing::Kind::kNone);
  auto noContent = parseResponseHead("HTTP/1.1 204 No Content\r\nContent-Length: 10");
  EXPECT_EQ(responseFraming(*noContent, false)->kind, Framing::Kind::kNone);
}

TEST(ResponseHeadTest, ParsesStatusAndRefusesGarbage) {
  auto r = parseResponseHead("HTTP/1.1 503 Service Unavailable\r\nweft-error: no_endpoints");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->reason, "Service Unavailable");
  EXPECT_EQ(r->headers.get("Weft-Error"), "no_endpoints");
  EXPECT_EQ(parseResponseHead("HTTP/1.1 200 ")->status, 200);
  EXPECT_EQ(parseResponseHead("HTTP/1.1 200")->status, 200);
  for (const char* bad :
       {"HTTP/1.1 2x0 Nope", "HTTP/1.1 20 OK", "HTTP/3 200 OK", "SSH-2.0-x", "HTTP/1.1 099 Low"}) {
    EXPECT_FALSE(parseResponseHead(bad).ok()) << bad;
  }
}

TEST(ChunkedTest, DecodesAcrossArbitrarySplits) {
  const std::string wire = "4;ext=1\r\nWeft\r\n6\r\n mesh!\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    std::string in = wire.substr(0, split);
    std::string out;
    auto first = decodeChunked(in, out, 1024);
    ASSERT_TRUE(first.ok()) << split;
    if (*first) {
      EXPECT_EQ(out, "Weft mesh!");
      continue;
    }
    in += wire.substr(split);
    auto second = decodeChunked(in, out, 1024);
    ASSERT_TRUE(second.ok()) << split;
    ASSERT_TRUE(*second) << split;
    EXPECT_EQ(out, "Weft mesh!");
    EXPECT_EQ(in, "NEXT") << "what follows the body stays for the next message";
  }
}

TEST(ChunkedTest, RefusesMalformedOrOversizedBodies) {
  for (const char* bad : {"zz\r\n", "4\r\nWeftXX", "\r\n", "123456789\r\n"}) {
    std::string in = bad;
    std::string out;
    EXPECT_FALSE(decodeChunked(in, out, 1024).ok()) << bad;
  }
  std::string in = "10\r\n0123456789abcdef\r\n";
  std::string out;
  auto r = decodeChunked(in, out, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("larger than 8 bytes"), std::string::npos);
}

TEST(FormatTest, ResponsesCarryTheirLengthAndClose) {
  Headers h;
  h.fields.emplace_back("x-sample-version", "v2");
  EXPECT_EQ(formatResponse(503, h, "{}", true),
            "HTTP/1.1 503 Service Unavailable\r\nx-sample-version: v2\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n{}");
  EXPECT_EQ(formatRequest("GET", "/x", "backend:8080", {}),
            "GET /x HTTP/1.1\r\nHost: backend:8080\r\n\r\n");
}

}  // namespace
}  // namespace weft::sample
