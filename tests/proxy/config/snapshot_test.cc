// Tests for Snapshot indexing and lookups.
#include "proxy/src/config/snapshot.h"

#include <gtest/gtest.h>

#include "common/api/json.h"

namespace weft::proxy::config {
namespace {

api::Outbound outbound(const std::string& authority, std::vector<std::string> aliases = {}) {
  api::Outbound o;
  o.authority = authority;
  o.aliases = std::move(aliases);
  return o;
}

TEST(SnapshotTest, FindsAnOutboundByEveryName) {
  auto s = Snapshot::build(
      {outbound("backend.demo.svc.cluster.local:8080",
                {"backend:8080", "backend.demo:8080", "198.51.100.10:8080", "[2001:db8::10]:8080"}),
       outbound("web.demo.svc.cluster.local:80", {"web:80"})},
      std::nullopt, "v1");
  ASSERT_TRUE(s) << s.error().message;
  const Snapshot& snap = **s;
  const api::Outbound* backend = &snap.outbounds()[0];
  const api::Outbound* web = &snap.outbounds()[1];
  EXPECT_EQ(snap.findOutbound("backend.demo.svc.cluster.local:8080"), backend);
  EXPECT_EQ(snap.findOutbound("BACKEND.Demo.svc.cluster.local:8080"), backend);
  EXPECT_EQ(snap.findOutbound("backend.demo.svc.cluster.local.:8080"), backend);
  EXPECT_EQ(snap.findOutbound("backend:8080"), backend);
  EXPECT_EQ(snap.findOutbound("Backend.Demo:8080"), backend);
  EXPECT_EQ(snap.findOutbound("198.51.100.10:8080"), backend);
  EXPECT_EQ(snap.findOutbound("[2001:DB8:0::10]:8080"), backend);
  EXPECT_EQ(snap.findOutbound("[2001:db8::10]", 8080), backend);
  EXPECT_EQ(snap.findOutbound("backend", 8080), backend);
  EXPECT_EQ(snap.findOutbound("web.demo.svc.cluster.local"), web);  // Host without port: 80
  EXPECT_EQ(snap.findOutbound("web:80"), web);

  EXPECT_EQ(snap.findOutbound("backend:9090"), nullptr);
  EXPECT_EQ(snap.findOutbound("backend:08080"), nullptr);
  EXPECT_EQ(snap.findOutbound("backend:"), nullptr);
  EXPECT_EQ(snap.findOutbound(""), nullptr);
  EXPECT_EQ(snap.findOutbound(":8080"), nullptr);
  EXPECT_EQ(snap.findOutbound("[zz]:8080"), nullptr);
  EXPECT_EQ(snap.findOutbound(std::string(1000, 'a') + ":80"), nullptr);
  EXPECT_EQ(snap.version(), "v1");
  EXPECT_LE(snap.builtAt(), std::chrono::system_clock::now());
}

TEST(SnapshotTest, RefusesAmbiguousNames) {
  auto dup = Snapshot::build({outbound("a:80"), outbound("A:80")}, std::nullopt, "v");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "Outbound A:80: authority defined twice");
  auto alias =
      Snapshot::build({outbound("a:80", {"x:80"}), outbound("b:80", {"x:80"})}, std::nullopt, "v");
  ASSERT_FALSE(alias);
  EXPECT_EQ(alias.error().message, "Outbound b:80: alias x:80 already names a:80");
  // An alias may not shadow another Outbound's authority, whatever the order.
  EXPECT_FALSE(Snapshot::build({outbound("a:80", {"b:80"}), outbound("b:80")}, std::nullopt, "v"));
  // Repeating one's own name is harmless.
  EXPECT_TRUE(Snapshot::build({outbound("a:80", {"a:80", "A:80"})}, std::nullopt, "v"));
}

TEST(SnapshotTest, IndexesTheInboundPorts) {
  api::Inbound in;
  in.pod = "demo/p";
  in.ports = {{8080, api::Protocol::kHttp}, {5432, api::Protocol::kTcp}};
  auto s = Snapshot::build({}, in, "v");
  ASSERT_TRUE(s);
  ASSERT_NE((*s)->inbound(), nullptr);
  EXPECT_EQ((*s)->inbound()->pod, "demo/p");
  ASSERT_NE((*s)->findInboundPort(5432), nullptr);
  EXPECT_EQ((*s)->findInboundPort(5432)->protocol, api::Protocol::kTcp);
  EXPECT_EQ((*s)->findInboundPort(9), nullptr);
  EXPECT_EQ(Snapshot::empty()->inbound(), nullptr);
  EXPECT_EQ(Snapshot::empty()->findInboundPort(8080), nullptr);
}

TEST(SnapshotTest, DumpsItsDocumentsAsJson) {
  api::Inbound in;
  in.pod = "demo/p";
  auto s = Snapshot::build({outbound("a.demo:80")}, in, "v9");
  ASSERT_TRUE(s);
  auto doc = json::parse((*s)->toJson());
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["version"], "v9");
  ASSERT_EQ((*doc)["outbounds"].size(), 1u);
  auto back = api::outboundFromJson((*doc)["outbounds"][0]);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, (*s)->outbounds()[0]);
  EXPECT_EQ((*doc)["inbound"]["pod"], "demo/p");
}

}  // namespace
}  // namespace weft::proxy::config
