// The opt-in rule as the operator applies it to running pods.
#include "operator/src/render/meshing.h"

#include <gtest/gtest.h>

#include "common/json/json.h"

namespace weft::op::render {
namespace {

using json::Json;

Json pod(const std::string& ns, Json annotations, Json containers, Json spec = Json::object()) {
  spec["containers"] = std::move(containers);
  return Json{{"metadata", {{"name", "p"}, {"namespace", ns}, {"annotations", annotations}}},
              {"spec", spec},
              {"status", {{"phase", "Running"}}}};
}

const Json kApp = Json::array({{{"name", "app"}}});
const Json kOptedInNs = {
    {"metadata", {{"name", "shop"}, {"labels", {{"weft.io/inject", "enabled"}}}}}};
const Json kPlainNs = {{"metadata", {{"name", "shop"}}}};
const Json kEnabled = {{"weft.io/inject", "enabled"}};
const MeshingScope kScope{"weft-system", {"legacy"}};

TEST(MeshingTest, OptedInWithoutTheProxyIsUnmeshed) {
  EXPECT_EQ(meshingOf(pod("shop", Json::object(), kApp), &kOptedInNs, kScope), Meshing::kUnmeshed)
      << "namespace label";
  EXPECT_EQ(meshingOf(pod("shop", kEnabled, kApp), &kPlainNs, kScope), Meshing::kUnmeshed)
      << "pod annotation";
  EXPECT_EQ(meshingOf(pod("shop", kEnabled, kApp), nullptr, kScope), Meshing::kUnmeshed)
      << "namespace not known yet";
}

TEST(MeshingTest, TheProxyAsContainerOrNativeSidecarIsMeshed) {
  Json sidecar = pod("shop", Json::object(), kApp);
  EXPECT_EQ(meshingOf(pod("shop", Json::object(),
                          Json::array({{{"name", "weft-proxy"}}, {{"name", "app"}}})),
                      &kOptedInNs, kScope),
            Meshing::kMeshed);
  sidecar["spec"]["initContainers"] =
      Json::array({{{"name", "weft-init"}}, {{"name", "weft-proxy"}}});
  EXPECT_EQ(meshingOf(sidecar, &kOptedInNs, kScope), Meshing::kMeshed);
}

TEST(MeshingTest, WhatIsNeverInjectedIsOutOfScope) {
  EXPECT_EQ(meshingOf(pod("shop", Json::object(), kApp), &kPlainNs, kScope), Meshing::kOutOfScope)
      << "not opted in";
  EXPECT_EQ(meshingOf(pod("shop", {{"weft.io/inject", "disabled"}}, kApp), &kOptedInNs, kScope),
            Meshing::kOutOfScope)
      << "opted out";
  for (const char* ns : {"kube-system", "kube-public", "kube-node-lease", "weft-mesh", "legacy"}) {
    EXPECT_EQ(meshingOf(pod(ns, kEnabled, kApp), nullptr, MeshingScope{"weft-mesh", {"legacy"}}),
              Meshing::kOutOfScope)
        << ns;
  }
  EXPECT_EQ(meshingOf(pod("shop", kEnabled, kApp, {{"hostNetwork", true}}), nullptr, kScope),
            Meshing::kOutOfScope)
      << "hostNetwork";
  EXPECT_EQ(
      meshingOf(pod("shop", kEnabled, Json::array({{{"name", "app"}}, {{"name", "istio-proxy"}}})),
                nullptr, kScope),
      Meshing::kOutOfScope)
      << "another mesh";
  Json done = pod("shop", kEnabled, kApp);
  done["status"]["phase"] = "Succeeded";
  EXPECT_EQ(meshingOf(done, nullptr, kScope), Meshing::kOutOfScope) << "finished";
  Json leaving = pod("shop", kEnabled, kApp);
  leaving["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  EXPECT_EQ(meshingOf(leaving, nullptr, kScope), Meshing::kOutOfScope) << "terminating";
}

TEST(MeshingTest, MalformedObjectsAreNotUnmeshed) {
  Json odd = {{"metadata", {{"namespace", "shop"}, {"annotations", {{"weft.io/inject", 7}}}}},
              {"spec", {{"containers", "app"}, {"hostNetwork", "yes"}}}};
  EXPECT_EQ(meshingOf(odd, &kPlainNs, kScope), Meshing::kOutOfScope);
  Json noSpec = {{"metadata", {{"namespace", "shop"}, {"annotations", kEnabled}}}};
  EXPECT_EQ(meshingOf(noSpec, nullptr, kScope), Meshing::kUnmeshed)
      << "opted in, and no container is the proxy";
}

}  // namespace
}  // namespace weft::op::render
