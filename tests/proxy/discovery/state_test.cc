// Tests for DiscoveryState: documents in, last good kept, snapshots out.
#include "proxy/src/discovery/state.h"

#include <gtest/gtest.h>

namespace weft::proxy::discovery {
namespace {

std::string outboundLine(const std::string& authority, const std::string& version,
                         const std::string& aliases = "[]") {
  return R"({"kind":"Outbound","version":")" + version + R"(","authority":")" + authority +
         R"(","aliases":)" + aliases + "}";
}

TEST(DiscoveryStateTest, KeepsTheLastGoodDocument) {
  DiscoveryState s;
  EXPECT_TRUE(s.addOutbound("backend:8080"));
  EXPECT_FALSE(s.addOutbound("backend:8080"));
  auto first =
      s.applyLine("backend:8080", outboundLine("backend.demo:8080", "1", "[\"backend:8080\"]"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  auto same =
      s.applyLine("backend:8080", outboundLine("backend.demo:8080", "1", "[\"backend:8080\"]"));
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);  // nothing changed: no new snapshot needed

  EXPECT_FALSE(s.applyLine("backend:8080", "{not json"));
  auto invalid = s.applyLine(
      "backend:8080",
      R"({"kind":"Outbound","authority":"backend.demo:8080","policy":{"retries":{"attempts":0}}})");
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().message.find("/policy/retries/attempts"), std::string::npos);
  EXPECT_FALSE(s.applyLine("backend:8080", R"({"kind":"Inbound","pod":"a/b"})"));
  EXPECT_FALSE(s.applyLine("other:1", outboundLine("other:1", "1")));

  auto snap = s.build();
  ASSERT_NE(snap->findOutbound("backend:8080"), nullptr);
  EXPECT_EQ(snap->findOutbound("backend:8080")->version, "1");
  EXPECT_EQ(snap->version(), "discovery:1");
  EXPECT_EQ(s.build()->version(), "discovery:2");
}

TEST(DiscoveryStateTest, AcceptsFieldsFromANewerOperator) {
  DiscoveryState s;
  s.addOutbound("a:80");
  auto r = s.applyLine("a:80", R"({"kind":"Outbound","authority":"a:80","newThing":{"x":1}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
}

TEST(DiscoveryStateTest, MergesSubscriptionsOfOneServiceAndDropsConflictingAliases) {
  DiscoveryState s;
  s.addOutbound("backend:8080");
  s.addOutbound("backend.demo:8080");
  s.addOutbound("other:9");
  const std::string doc = outboundLine("backend.demo.svc.cluster.local:8080", "3",
                                       R"(["backend:8080","backend.demo:8080"])");
  ASSERT_TRUE(s.applyLine("backend:8080", doc));
  ASSERT_TRUE(s.applyLine("backend.demo:8080", doc));
  // A stale document elsewhere claims one of the names: the snapshot still builds.
  ASSERT_TRUE(s.applyLine("other:9", outboundLine("other:9", "1", R"(["backend:8080"])")));
  auto snap = s.build();
  EXPECT_EQ(snap->outbounds().size(), 2u);
  ASSERT_NE(snap->findOutbound("backend:8080"), nullptr);
  ASSERT_NE(snap->findOutbound("backend.demo:8080"), nullptr);
  EXPECT_EQ(snap->findOutbound("backend:8080"), snap->findOutbound("backend.demo:8080"));
  EXPECT_NE(snap->findOutbound("other:9"), nullptr);
}

TEST(DiscoveryStateTest, TakesTheInboundStream) {
  DiscoveryState s;
  auto r = s.applyLine("", R"({"kind":"Inbound","pod":"demo/web-0","mtls":"STRICT"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(s.applyLine("", outboundLine("a:80", "1")));
  auto snap = s.build();
  ASSERT_NE(snap->inbound(), nullptr);
  EXPECT_EQ(snap->inbound()->mtls, api::MtlsMode::kStrict);
}

}  // namespace
}  // namespace weft::proxy::discovery
