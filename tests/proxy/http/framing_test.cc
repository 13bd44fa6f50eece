// Request framing checks (RFC 9112 smuggling defences) and hop-by-hop removal.
#include "proxy/src/http/framing.h"

#include <gtest/gtest.h>

namespace weft::proxy::http {
namespace {

std::optional<std::string_view> check(std::initializer_list<std::pair<const char*, const char*>> f,
                                      unsigned version = 11, std::string_view target = "/") {
  bhttp::fields fields;
  for (const auto& [k, v] : f) {
    fields.insert(k, v);
  }
  return checkRequest(fields, version, target, Limits{});
}

TEST(FramingTest, AcceptsOrdinaryRequests) {
  EXPECT_EQ(check({{"Host", "a"}}), std::nullopt);
  EXPECT_EQ(check({{"Host", "a"}, {"Content-Length", "5"}}), std::nullopt);
  EXPECT_EQ(check({{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "5"}}), std::nullopt);
  EXPECT_EQ(check({{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}}), std::nullopt);
  EXPECT_EQ(check({}, 10), std::nullopt);  // HTTP/1.0 needs no Host
}

TEST(FramingTest, RefusesSmugglingFramings) {
  EXPECT_TRUE(check({{"Host", "a"}, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}));
  EXPECT_TRUE(check({{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "6"}}));
  EXPECT_TRUE(check({{"Host", "a"}, {"Transfer-Encoding", "chunked, gzip"}}));
  EXPECT_TRUE(check({{"Host", "a"}, {"Transfer-Encoding", "identity"}}));
  // Found by http1_request_fuzz: Beast parses these as bodiless.
  EXPECT_EQ(check({{"Host", "a"}, {"Transfer-Encoding", "chunked, chunked"}}),
            "chunked applied more than once");
  EXPECT_TRUE(check({{"Host", "a"}, {"Transfer-Encoding", "chunked, gzip, chunked"}}));
  EXPECT_EQ(check({{"Host", "a"}, {"Transfer-Encoding", "gz\xffip, chunked"}}),
            "malformed Transfer-Encoding");
  EXPECT_TRUE(check({{"Host", "a"}, {"Transfer-Encoding", "gzip;q=1, chunked"}}));
  EXPECT_TRUE(check({{"Host", "a"}, {"Transfer-Encoding", "chunked"}}, 10));
  EXPECT_TRUE(check({}));  // HTTP/1.1 without Host
  EXPECT_TRUE(check({{"Host", "a"}, {"Host", "b"}}));
}

TEST(FramingTest, EnforcesCountAndTargetLimits) {
  bhttp::fields fields;
  fields.insert("Host", "a");
  for (int i = 0; i < 100; ++i) {
    fields.insert("X-" + std::to_string(i), "v");
  }
  EXPECT_EQ(checkRequest(fields, 11, "/", Limits{}), "too many header fields");
  EXPECT_TRUE(check({{"Host", "a"}}, 11, std::string(9000, 'a')));
}

TEST(FramingTest, RemovesHopByHopFieldsKeepingCaseOfOthers) {
  bhttp::fields f;
  f.insert("Host", "a");
  f.insert("Connection", "keep-alive, X-Private");
  f.insert("X-Private", "1");
  f.insert("Keep-Alive", "timeout=5");
  f.insert("TE", "trailers");
  f.insert("Upgrade", "websocket");
  f.insert("X-CamelCase", "1");
  f.insert("Transfer-Encoding", "chunked");
  removeHopByHop(f, false);
  EXPECT_EQ(f.count("Connection"), 0u);
  EXPECT_EQ(f.count("X-Private"), 0u);
  EXPECT_EQ(f.count("Keep-Alive"), 0u);
  EXPECT_EQ(f.count("TE"), 0u);
  EXPECT_EQ(f.count("Upgrade"), 0u);
  EXPECT_EQ(f.count("Transfer-Encoding"), 1u);  // framing stays
  bool sawCamel = false;
  for (const auto& field : f) {
    sawCamel = sawCamel || field.name_string() == "X-CamelCase";
  }
  EXPECT_TRUE(sawCamel);
}

TEST(FramingTest, UpgradeSurvivesWhenAsked) {
  bhttp::fields f;
  f.insert("Connection", "Upgrade");
  f.insert("Upgrade", "websocket");
  EXPECT_TRUE(isUpgrade(f));
  removeHopByHop(f, true);
  EXPECT_EQ(f["Upgrade"], "websocket");
  EXPECT_EQ(f["Connection"], "upgrade");
  bhttp::fields g;
  g.insert("Upgrade", "websocket");
  EXPECT_FALSE(isUpgrade(g));
}

TEST(FramingTest, Idempotency) {
  EXPECT_TRUE(isIdempotent(bhttp::verb::get));
  EXPECT_TRUE(isIdempotent(bhttp::verb::put));
  EXPECT_FALSE(isIdempotent(bhttp::verb::post));
  EXPECT_FALSE(isIdempotent(bhttp::verb::patch));
}

}  // namespace
}  // namespace weft::proxy::http
