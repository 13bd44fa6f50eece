// The reconciler: level-triggered, idempotent, status only when it changes.
#include "operator/src/reconcile/reconciler.h"

#include <gtest/gtest.h>

#include "common/json/json.h"
#include "tests/operator/objects_fixture.h"

namespace weft::op::reconcile {
namespace {

using json::Json;
using op::testing::parseObjects;
using op::testing::pod;
using op::testing::service;
using op::testing::slice;

// Records status writes and Events; counts them.
class RecordingWriter final : public status::StatusWriter {
 public:
  void writeStatus(Kind kind, const std::string& key, const Json& s) override {
    status[{static_cast<int>(kind), key}] = s;
    ++writes;
  }
  void forget(Kind kind, const std::string& key) override {
    status.erase({static_cast<int>(kind), key});
    ++forgets;
  }
  void recordEvent(const status::Event& e) override { events.push_back(e); }

  std::map<std::pair<int, std::string>, Json> status;
  std::vector<status::Event> events;
  int writes = 0;
  int forgets = 0;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : reconciler_(table_, writer_, [this] { return now_; }) {
    table_.setListener([this](discovery::Stream s, const std::string& key) {
      notified_.push_back((s == discovery::Stream::kOutbound ? "out:" : "in:") + key);
    });
  }
  void apply(const std::string& yaml) {
    for (auto& [kind, obj] : parseObjects(yaml)) {
      reconciler_.upsert(kind, obj);
    }
  }
  Json outbound(const std::string& authority) {
    return Json::parse(table_.outbound(authority)->line);
  }
  Json conditions(Kind kind, const std::string& key) {
    return writer_.status[{static_cast<int>(kind), key}]["conditions"];
  }

  discovery::DocumentTable table_;
  RecordingWriter writer_;
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01T00:00:00Z
  Reconciler reconciler_;
  std::vector<std::string> notified_;
};

constexpr const char* kBackend = "backend.demo.svc.cluster.local:8080";

const std::string kWorld =
    service("backend", "198.51.100.20") + pod("b-0", "backend", "backend") +
    pod("b-1", "backend", "backend") +
    slice("backend-a", "backend", {{"192.0.2.11", "b-0"}, {"192.0.2.12", "b-1"}}) +
    R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: p}
spec: {targetRef: {name: backend}, timeouts: {request: 2s}}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: broken}
spec: {targetRef: {name: backend}, retries: {attempts: 99}}
---
)";

TEST_F(ReconcilerTest, SecondPassDoesNothing) {
  apply(kWorld);
  PassStats first = reconciler_.reconcile();
  EXPECT_EQ(first.documentsPublished, 3u) << "one Outbound, two Inbound";
  EXPECT_EQ(first.statusWrites, 2u);
  EXPECT_EQ(first.events, 1u) << "the broken policy";
  EXPECT_FALSE(reconciler_.pending());

  PassStats second = reconciler_.reconcile();
  EXPECT_EQ(second.servicesRendered, 0u);
  EXPECT_EQ(second.documentsPublished, 0u);
  EXPECT_EQ(second.statusWrites, 0u);
  EXPECT_EQ(second.events, 0u);

  // A full resync looks at everything again and still writes nothing.
  reconciler_.markAll();
  now_ += std::chrono::hours(1);
  PassStats resync = reconciler_.reconcile();
  EXPECT_EQ(resync.servicesRendered, 1u);
  EXPECT_EQ(resync.podsRendered, 2u);
  EXPECT_EQ(resync.documentsPublished, 0u);
  EXPECT_EQ(resync.statusWrites, 0u);
  EXPECT_EQ(resync.events, 0u);
  EXPECT_EQ(writer_.writes, 2);

  // The same object again (a relist) changes nothing either.
  apply(kWorld);
  PassStats relist = reconciler_.reconcile();
  EXPECT_EQ(relist.documentsPublished + relist.statusWrites + relist.events, 0u);
}

TEST_F(ReconcilerTest, PublishesRenderedDocuments) {
  apply(kWorld);
  reconciler_.reconcile();
  Json doc = outbound(kBackend);
  EXPECT_EQ(doc["policy"]["timeouts"]["request"], "2s");
  EXPECT_EQ(doc["backends"][kBackend]["endpoints"].size(), 2u);
  EXPECT_FALSE(doc["version"].get<std::string>().empty());
  EXPECT_EQ(outbound("198.51.100.20:8080"), doc) << "by ClusterIP alias";
  EXPECT_EQ(outbound("backend.demo:8080"), doc);
  Json in = Json::parse(table_.inbound("demo/b-0")->line);
  EXPECT_EQ(in["identity"], "spiffe://cluster.local/ns/demo/sa/backend");
}

TEST_F(ReconcilerTest, EndpointChangeRepublishesOnlyItsService) {
  apply(kWorld + service("other", "198.51.100.30") +
        slice("other-a", "other", {{"192.0.2.30", ""}}));
  reconciler_.reconcile();
  std::string before = outbound(kBackend)["version"];
  notified_.clear();
  apply(slice("backend-a", "backend", {{"192.0.2.11", "b-0"}}));
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.servicesRendered, 1u);
  EXPECT_EQ(s.documentsPublished, 1u);
  Json doc = outbound(kBackend);
  EXPECT_NE(doc["version"], before);
  ASSERT_EQ(doc["backends"][kBackend]["endpoints"].size(), 1u);
  EXPECT_NE(std::find(notified_.begin(), notified_.end(), std::string("out:") + kBackend),
            notified_.end());
  EXPECT_NE(std::find(notified_.begin(), notified_.end(), "out:198.51.100.20:8080"),
            notified_.end());
}

TEST_F(ReconcilerTest, PodChangeReachesTheServicesThatListIt) {
  apply(kWorld);
  reconciler_.reconcile();
  std::string p = pod("b-0", "backend", "changed-sa");
  apply(p);
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.servicesRendered, 1u);
  Json eps = outbound(kBackend)["backends"][kBackend]["endpoints"];
  EXPECT_EQ(eps[0]["identity"], "spiffe://cluster.local/ns/demo/sa/changed-sa");
}

TEST_F(ReconcilerTest, RouteBackendChangeReachesTheParent) {
  apply(kWorld + service("v2", "198.51.100.22") + slice("v2-a", "v2", {{"192.0.2.13", ""}}) + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: r}
spec:
  parentRefs: [{name: backend}]
  rules: [{backendRefs: [{name: v2, port: 8080}]}]
)");
  reconciler_.reconcile();
  const std::string v2 = "v2.demo.svc.cluster.local:8080";
  EXPECT_EQ(outbound(kBackend)["backends"][v2]["endpoints"].size(), 1u);
  apply(slice("v2-a", "v2", {{"192.0.2.13", ""}, {"192.0.2.14", ""}}));
  reconciler_.reconcile();
  EXPECT_EQ(outbound(kBackend)["backends"][v2]["endpoints"].size(), 2u);
}

TEST_F(ReconcilerTest, DeletedServiceLeavesAnEmptyDocument) {
  apply(kWorld);
  reconciler_.reconcile();
  reconciler_.remove(Kind::kService, "demo/backend");
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.documentsRemoved, 1u);
  Json doc = outbound(kBackend);
  EXPECT_EQ(doc["backends"], Json::object()) << "unknown authority: no endpoints";
  EXPECT_EQ(doc["authority"], kBackend);
  EXPECT_EQ(outbound("198.51.100.20:8080")["authority"], "198.51.100.20:8080");
  // The policy now points at nothing.
  EXPECT_EQ(conditions(Kind::kTrafficPolicy, "demo/p")[1]["reason"], "TargetNotFound");
}

TEST_F(ReconcilerTest, ConditionsKeepTransitionTimeAndFollowGeneration) {
  apply(kWorld);
  reconciler_.reconcile();
  Json c = conditions(Kind::kTrafficPolicy, "demo/broken");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["status"], "False");
  EXPECT_EQ(c[0]["reason"], "Invalid");
  EXPECT_EQ(c[0]["observedGeneration"], 1);
  EXPECT_EQ(c[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
  ASSERT_EQ(writer_.events.size(), 1u);
  EXPECT_EQ(writer_.events[0].type, "Warning");
  EXPECT_EQ(writer_.events[0].reason, "Invalid");
  EXPECT_EQ(writer_.events[0].key, "demo/broken");

  // Still invalid, differently: message and generation move, the transition time does not.
  now_ += std::chrono::minutes(5);
  apply(R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: broken, generation: 2}
spec: {targetRef: {name: backend}, timeouts: {request: soon}}
)");
  reconciler_.reconcile();
  c = conditions(Kind::kTrafficPolicy, "demo/broken");
  EXPECT_EQ(c[0]["status"], "False");
  EXPECT_EQ(c[0]["observedGeneration"], 2);
  EXPECT_EQ(c[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(writer_.events.size(), 2u) << "a new problem is a new Event";

  // Fixed, and aimed at the port so that it does not conflict with `p`.
  now_ += std::chrono::minutes(5);
  apply(R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: broken, generation: 3}
spec: {targetRef: {name: backend, port: 8080}, retries: {attempts: 2}}
)");
  reconciler_.reconcile();
  c = conditions(Kind::kTrafficPolicy, "demo/broken");
  EXPECT_EQ(c[0]["status"], "True");
  EXPECT_EQ(c[0]["observedGeneration"], 3);
  EXPECT_EQ(c[0]["lastTransitionTime"], "2026-01-01T00:10:00Z");
  EXPECT_EQ(c[1]["type"], "ResolvedRefs");
  EXPECT_EQ(outbound(kBackend)["policy"]["retries"]["attempts"], 2);
  EXPECT_EQ(outbound(kBackend)["policy"]["timeouts"]["request"], "2s");

  // Deleting it forgets its status.
  reconciler_.remove(Kind::kTrafficPolicy, "demo/broken");
  reconciler_.reconcile();
  EXPECT_FALSE(writer_.status.contains({static_cast<int>(Kind::kTrafficPolicy), "demo/broken"}));
  EXPECT_EQ(outbound(kBackend)["policy"]["retries"]["attempts"], 3);
}

TEST_F(ReconcilerTest, BadPodAnnotationIsAnEventOnce) {
  apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {weft.io/probe-paths: "nope"}}
spec: {containers: [{name: app}]}
)");
  reconciler_.reconcile();
  ASSERT_EQ(writer_.events.size(), 1u);
  EXPECT_EQ(writer_.events[0].kind, Kind::kPod);
  EXPECT_EQ(writer_.events[0].reason, "InvalidAnnotation");
  reconciler_.markAll();
  reconciler_.reconcile();
  EXPECT_EQ(writer_.events.size(), 1u);
}

TEST_F(ReconcilerTest, MeshChangeRerendersEverything) {
  apply(kWorld);
  reconciler_.reconcile();
  apply(R"(
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {mtls: {mode: STRICT}, defaults: {loadBalancer: {type: LeastRequest}}}
)");
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.documentsPublished, 3u);
  EXPECT_EQ(Json::parse(table_.inbound("demo/b-1")->line)["mtls"], "STRICT");
  EXPECT_EQ(outbound(kBackend)["policy"]["loadBalancer"], "least-request");
  EXPECT_EQ(Json::parse(table_.inbound("demo/unknown")->line)["mtls"], "STRICT");
}

TEST_F(ReconcilerTest, TrustBundleChangeRepublishesEveryInbound) {
  apply(kWorld);
  reconciler_.reconcile();
  EXPECT_EQ(Json::parse(table_.inbound("demo/b-0")->line)["trustBundle"], Json::array());
  reconciler_.setTrustBundle({"ROOT-A", "ROOT-B"});
  EXPECT_TRUE(reconciler_.pending());
  notified_.clear();
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.documentsPublished, 2u) << "both pods, no Outbound";
  for (const char* pod : {"demo/b-0", "demo/b-1"}) {
    EXPECT_EQ(Json::parse(table_.inbound(pod)->line)["trustBundle"], Json({"ROOT-A", "ROOT-B"}))
        << pod;
  }
  EXPECT_EQ(Json::parse(table_.inbound("demo/unknown")->line)["trustBundle"].size(), 2u);
  reconciler_.setTrustBundle({"ROOT-A", "ROOT-B"});
  EXPECT_FALSE(reconciler_.pending()) << "the same bundle changes nothing";
}

TEST_F(ReconcilerTest, ReplaceDropsWhatIsGone) {
  apply(kWorld);
  reconciler_.reconcile();
  auto objs = parseObjects(pod("b-0", "backend", "backend"));
  reconciler_.replace(Kind::kPod, {objs[0].second});
  reconciler_.reconcile();
  Json in = Json::parse(table_.inbound("demo/b-1")->line);
  EXPECT_EQ(in["ports"], Json::array()) << "b-1 is gone: an empty Inbound";
}

TEST_F(ReconcilerTest, DeletionsDuringAFullPassAreNotMissed) {
  apply(kWorld);
  reconciler_.reconcile();
  reconciler_.markAll();
  reconciler_.remove(Kind::kPod, "demo/b-1");
  reconciler_.remove(Kind::kService, "demo/backend");
  reconciler_.reconcile();
  EXPECT_EQ(Json::parse(table_.inbound("demo/b-1")->line)["identity"], "")
      << "the pod's document is withdrawn";
  EXPECT_EQ(outbound(kBackend)["backends"], Json::object());
}

// Programmed: what the discovery server reports for the documents a resource shapes.
TEST_F(ReconcilerTest, ProgrammedFollowsDeliveries) {
  discovery::Deliveries deliveries;
  reconciler_.setDeliveries([&] { return deliveries; });
  apply(kWorld);
  reconciler_.reconcile();
  auto programmed = [&](const std::string& key) {
    for (const Json& c : conditions(Kind::kTrafficPolicy, key)) {
      if (c["type"] == "Programmed") {
        return c;
      }
    }
    return Json();
  };
  EXPECT_EQ(programmed("demo/p")["status"], "True") << "no stream subscribed: nothing pending";
  EXPECT_EQ(programmed("demo/p")["message"],
            "current version delivered to 0 of 0 subscribed proxy streams");
  EXPECT_EQ(programmed("demo/broken")["reason"], "NotAccepted");

  // Two streams on the backend's document, one of them sent its current version.
  std::string version = outbound(kBackend)["version"];
  deliveries[version] = {1, 2};
  deliveries["some-other-document"] = {0, 5};
  int writes = writer_.writes;
  PassStats s = reconciler_.refreshProgrammed();
  EXPECT_EQ(s.statusWrites, 1u) << "only p changed";
  EXPECT_EQ(s.events, 0u) << "Pending is progress, not a problem";
  EXPECT_EQ(programmed("demo/p")["status"], "False");
  EXPECT_EQ(programmed("demo/p")["reason"], "Pending");
  EXPECT_EQ(programmed("demo/p")["message"],
            "current version delivered to 1 of 2 subscribed proxy streams");
  EXPECT_EQ(reconciler_.refreshProgrammed().statusWrites, 0u) << "nothing changed";

  deliveries[version] = {2, 2};
  reconciler_.refreshProgrammed();
  EXPECT_EQ(programmed("demo/p")["status"], "True");
  EXPECT_EQ(programmed("demo/p")["observedGeneration"], 1);
  EXPECT_EQ(writer_.writes, writes + 2);

  // A new generation publishes a new version, which the streams have not been sent yet.
  apply(R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: p, generation: 2}
spec: {targetRef: {name: backend}, timeouts: {request: 3s}}
)");
  std::string next;
  reconciler_.setDeliveries([&] {
    next = outbound(kBackend)["version"];
    return discovery::Deliveries{{next, {0, 2}}};
  });
  reconciler_.reconcile();
  EXPECT_NE(next, version);
  EXPECT_EQ(programmed("demo/p")["status"], "False");
  EXPECT_EQ(programmed("demo/p")["observedGeneration"], 2);
  reconciler_.setDeliveries([&] { return discovery::Deliveries{{next, {2, 2}}}; });
  reconciler_.refreshProgrammed();
  EXPECT_EQ(programmed("demo/p")["status"], "True");
  EXPECT_EQ(programmed("demo/p")["observedGeneration"], 2);
}

TEST_F(ReconcilerTest, OnlyTheLeaderWritesAndANewLeaderWritesOnlyWhatDiffers) {
  reconciler_.setLeader(false);
  apply(kWorld);
  PassStats s = reconciler_.reconcile();
  EXPECT_EQ(s.documentsPublished, 3u) << "a follower still serves discovery";
  EXPECT_EQ(s.statusWrites + s.events, 0u);
  EXPECT_EQ(writer_.writes, 0);
  EXPECT_TRUE(writer_.events.empty());
  EXPECT_EQ(reconciler_.refreshProgrammed().statusWrites, 0u);

  // The old leader had written p's status already (the cache has it); broken's not.
  discovery::DocumentTable oldTable;
  RecordingWriter oldWriter;
  Reconciler oldLeader(oldTable, oldWriter, [this] { return now_; });
  for (auto& [kind, obj] : parseObjects(kWorld)) {
    oldLeader.upsert(kind, obj);
  }
  oldLeader.reconcile();
  Json p = *reconciler_.objects().get(Kind::kTrafficPolicy, "demo/p");
  p["status"] = oldWriter.status[{static_cast<int>(Kind::kTrafficPolicy), "demo/p"}];
  ASSERT_TRUE(p["status"].contains("conditions"));
  reconciler_.upsert(Kind::kTrafficPolicy, std::make_shared<const Json>(p));
  reconciler_.setLeader(true);
  EXPECT_TRUE(reconciler_.pending());
  s = reconciler_.reconcile();
  EXPECT_EQ(writer_.status.count({static_cast<int>(Kind::kTrafficPolicy), "demo/broken"}), 1u);
  EXPECT_EQ(writer_.status.count({static_cast<int>(Kind::kTrafficPolicy), "demo/p"}), 0u)
      << "already as the cache shows it";
  EXPECT_EQ(writer_.events.size(), 1u) << "the broken policy's problem, reported once";
  EXPECT_EQ(reconciler_.reconcile().statusWrites, 0u);
}

TEST_F(ReconcilerTest, UnmeshedPodsGetOneEventEach) {
  reconciler_.setMeshingScope({});
  reconciler_.setLeader(false);
  apply(kWorld + R"(
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {weft.io/inject: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: meshed, labels: {app: x}}
spec: {containers: [{name: weft-proxy}, {name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: host, labels: {app: x}}
spec: {hostNetwork: true, containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: out, labels: {app: x}, annotations: {weft.io/inject: disabled}}
spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: sys, namespace: kube-system, annotations: {weft.io/inject: enabled}}
spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: mine, namespace: weft-system, annotations: {weft.io/inject: enabled}}
spec: {containers: [{name: app}]}
)");
  reconciler_.reconcile();
  EXPECT_EQ(reconciler_.unmeshedPods(), 2u) << "a follower counts them";
  EXPECT_TRUE(writer_.events.empty()) << "but only the leader warns";
  reconciler_.setLeader(true);
  reconciler_.reconcile();
  std::set<std::string> warned;
  for (const auto& e : writer_.events) {
    if (e.reason == "NotMeshed") {
      EXPECT_EQ(e.type, "Warning");
      EXPECT_EQ(e.kind, Kind::kPod);
      EXPECT_NE(e.message.find("restart the workload"), std::string::npos) << e.message;
      warned.insert(e.key);
    }
  }
  EXPECT_EQ(warned, (std::set<std::string>{"demo/b-0", "demo/b-1"}))
      << "the fixture's pods carry no weft-proxy container";
  EXPECT_EQ(reconciler_.unmeshedPods(), 2u);

  // Seen again (a resync, a relabel): no second Event.
  std::size_t events = writer_.events.size();
  reconciler_.markAll();
  reconciler_.reconcile();
  apply(pod("b-0", "backend", "backend", "v2"));
  reconciler_.reconcile();
  EXPECT_EQ(writer_.events.size(), events);

  // The namespace opts out: nothing is unmeshed any more.
  apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n");
  reconciler_.reconcile();
  EXPECT_EQ(reconciler_.unmeshedPods(), 0u);
  // Opting in again warns again (a new episode), and a deleted pod is forgotten.
  apply(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo, labels: {weft.io/inject: "
      "enabled}}\n");
  reconciler_.reconcile();
  EXPECT_EQ(reconciler_.unmeshedPods(), 2u);
  EXPECT_EQ(writer_.events.size(), events + 2);
  reconciler_.remove(Kind::kPod, "demo/b-1");
  reconciler_.reconcile();
  EXPECT_EQ(reconciler_.unmeshedPods(), 1u);
}

}  // namespace
}  // namespace weft::op::reconcile
