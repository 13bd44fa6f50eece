// Validation, references and conflicts: the conditions each resource earns.
#include "operator/src/render/resolve.h"

#include <gtest/gtest.h>

#include "tests/operator/objects_fixture.h"

namespace weft::op::render {
namespace {

using json::Json;
using op::testing::load;
using op::testing::service;

class ResolveTest : public ::testing::Test {
 protected:
  void resolve() {
    meshVerdicts_.clear();
    mesh_ = resolveMesh(objects_, meshVerdicts_);
    view_ = resolveNamespace(objects_, mesh_, "demo");
  }
  // The condition `type` of the resource `kind` demo/<name> (or /<name> for Mesh).
  Condition condition(Kind kind, const std::string& name, const std::string& type) {
    std::string key = (kind == Kind::kMesh ? "/" : "demo/") + name;
    for (const auto* list : {&meshVerdicts_, &view_.verdicts}) {
      for (const auto& v : *list) {
        if (v.kind == kind && v.key == key) {
          for (const auto& c : v.conditions) {
            if (c.type == type) {
              return c;
            }
          }
          return {type, "Missing", "", ""};
        }
      }
    }
    return {type, "NoVerdict", "", ""};
  }

  Objects objects_;
  MeshView mesh_;
  std::vector<Verdict> meshVerdicts_;
  NamespaceView view_;
};

TEST_F(ResolveTest, ValidPolicyIsAcceptedAndResolved) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: p, generation: 4}
spec: {targetRef: {name: backend}, timeouts: {request: 1s}}
)");
  resolve();
  EXPECT_EQ(condition(Kind::kTrafficPolicy, "p", "Accepted"),
            (Condition{"Accepted", "True", "Accepted", "the resource is valid"}));
  EXPECT_EQ(condition(Kind::kTrafficPolicy, "p", "ResolvedRefs").status, "True");
  ASSERT_EQ(view_.verdicts.size(), 1u);
  EXPECT_EQ(view_.verdicts[0].generation, 4);
  EXPECT_TRUE(view_.policies.contains("backend"));
}

TEST_F(ResolveTest, InvalidFieldsAreNamed) {
  struct Case {
    std::string spec;
    std::string message;
  };
  std::vector<Case> cases = {
      {"{targetRef: {name: backend}, retries: {attempts: 0}}",
       "spec.retries.attempts: must be an integer from 1 to 10"},
      {"{targetRef: {name: backend}, timeouts: {request: 5 seconds}}", "spec.timeouts.request"},
      {"{targetRef: {name: backend}, timeouts: {connect: \"\"}}", "spec.timeouts.connect"},
      {"{targetRef: {name: backend}, loadBalancer: {type: Random}}",
       "spec.loadBalancer.type: must be one of PeakEWMA, RoundRobin, LeastRequest"},
      {"{targetRef: {name: backend}, retries: {retryOn: [teapot]}}", "spec.retries.retryOn[0]"},
      {"{targetRef: {name: backend}, retries: {backoff: {base: 2s, max: 1s}}}",
       "spec.retries.backoff: base must not exceed max"},
      {"{targetRef: {name: backend}, circuitBreaker: {maxRequests: 0}}",
       "spec.circuitBreaker.maxRequests"},
      {"{targetRef: {name: backend}, outlierDetection: {maxEjectionPercent: 101}}",
       "spec.outlierDetection.maxEjectionPercent"},
      {"{targetRef: {name: backend}, timeout: 1s}", "spec.timeout: unknown field"},
      {"{targetRef: {kind: Deployment, name: backend}}", "spec.targetRef.kind"},
      {"{timeouts: {request: 1s}}", "spec.targetRef: is required"},
  };
  for (const auto& c : cases) {
    Objects objects;
    objects_ = objects;
    load(objects_, service("backend", "198.51.100.20") +
                       "apiVersion: weft.io/v1alpha1\nkind: TrafficPolicy\nmetadata: {name: p}\n"
                       "spec: " +
                       c.spec + "\n");
    resolve();
    Condition a = condition(Kind::kTrafficPolicy, "p", "Accepted");
    EXPECT_EQ(a.status, "False") << c.spec;
    EXPECT_EQ(a.reason, "Invalid") << c.spec;
    EXPECT_NE(a.message.find(c.message), std::string::npos) << c.spec << " -> " << a.message;
    EXPECT_TRUE(view_.policies.empty()) << "an invalid policy is not applied: " << c.spec;
  }
}

TEST_F(ResolveTest, MissingTargetAndPort) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: nosvc}
spec: {targetRef: {name: nothere}}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: noport}
spec: {targetRef: {name: backend, port: 9999}}
)");
  resolve();
  EXPECT_EQ(condition(Kind::kTrafficPolicy, "nosvc", "Accepted").status, "True");
  Condition r = condition(Kind::kTrafficPolicy, "nosvc", "ResolvedRefs");
  EXPECT_EQ(r.status, "False");
  EXPECT_EQ(r.reason, "TargetNotFound");
  EXPECT_EQ(r.message, "Service demo/nothere not found");
  Condition p = condition(Kind::kTrafficPolicy, "noport", "ResolvedRefs");
  EXPECT_EQ(p.reason, "PortNotFound");
  EXPECT_TRUE(view_.policies.empty());
}

TEST_F(ResolveTest, OldestWinsThenName) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: newer, creationTimestamp: "2026-02-01T00:00:00Z"}
spec: {targetRef: {name: backend}, timeouts: {request: 1s}}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: b-older, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {targetRef: {name: backend}, timeouts: {request: 2s}}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: a-older, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {targetRef: {name: backend}, timeouts: {request: 3s}}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: port, creationTimestamp: "2026-03-01T00:00:00Z"}
spec: {targetRef: {name: backend, port: 8080}, timeouts: {request: 4s}}
)");
  resolve();
  EXPECT_EQ(condition(Kind::kTrafficPolicy, "a-older", "Accepted").status, "True");
  for (const char* loser : {"b-older", "newer"}) {
    Condition c = condition(Kind::kTrafficPolicy, loser, "Accepted");
    EXPECT_EQ(c.status, "False") << loser;
    EXPECT_EQ(c.reason, "Conflicted") << loser;
    EXPECT_NE(c.message.find("a-older"), std::string::npos) << c.message;
  }
  EXPECT_EQ(condition(Kind::kTrafficPolicy, "port", "Accepted").status, "True")
      << "a port-specific policy is another target";
  EXPECT_EQ(view_.policies["backend"]["timeouts"]["request"], "3s");
  EXPECT_EQ(view_.policies["backend:8080"]["timeouts"]["request"], "4s");
}

TEST_F(ResolveTest, RouteConditions) {
  load(objects_, service("backend", "198.51.100.20") + service("v1", "198.51.100.21") + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: good, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: backend}]
  rules: [{backendRefs: [{name: v1, port: 8080}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: late, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: backend}]
  rules: [{backendRefs: [{name: v1, port: 8080}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: dangling}
spec:
  parentRefs: [{name: v1}]
  rules: [{backendRefs: [{name: v1, port: 8080}, {name: gone, port: 80}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: badport}
spec:
  parentRefs: [{name: v1, port: 8080}]
  rules: [{backendRefs: [{name: v1, port: 81}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: zero}
spec:
  parentRefs: [{name: backend}]
  rules: [{backendRefs: [{name: v1, port: 8080, weight: 0}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: regex}
spec:
  parentRefs: [{name: backend}]
  rules: [{matches: [{path: {type: RegularExpression, value: "(("}}], backendRefs: [{name: v1, port: 8080}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: noparent}
spec:
  parentRefs: [{name: absent}]
  rules: [{backendRefs: [{name: v1, port: 8080}]}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: pertry}
spec:
  parentRefs: [{name: backend, port: 8080}]
  rules: [{backendRefs: [{name: v1, port: 8080}], timeouts: {request: 2s, backendRequest: 500ms}}]
---
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: relpath}
spec:
  parentRefs: [{name: backend}]
  rules: [{matches: [{path: {value: api}}], backendRefs: [{name: v1, port: 8080}]}]
)");
  resolve();
  EXPECT_EQ(condition(Kind::kTrafficRoute, "good", "Accepted").status, "True");
  EXPECT_EQ(condition(Kind::kTrafficRoute, "good", "ResolvedRefs").status, "True");
  EXPECT_EQ(condition(Kind::kTrafficRoute, "late", "Accepted").reason, "Conflicted");
  Condition d = condition(Kind::kTrafficRoute, "dangling", "ResolvedRefs");
  EXPECT_EQ(d.status, "False");
  EXPECT_EQ(d.reason, "BackendNotFound");
  EXPECT_NE(d.message.find("demo/gone"), std::string::npos);
  EXPECT_EQ(condition(Kind::kTrafficRoute, "dangling", "Accepted").status, "True");
  EXPECT_EQ(condition(Kind::kTrafficRoute, "badport", "ResolvedRefs").reason, "BackendNotFound");
  Condition z = condition(Kind::kTrafficRoute, "zero", "Accepted");
  EXPECT_EQ(z.reason, "Invalid");
  EXPECT_NE(z.message.find("weight above 0"), std::string::npos);
  EXPECT_NE(condition(Kind::kTrafficRoute, "regex", "Accepted").message.find("regular expression"),
            std::string::npos);
  EXPECT_EQ(condition(Kind::kTrafficRoute, "noparent", "ResolvedRefs").reason, "TargetNotFound");
  EXPECT_NE(condition(Kind::kTrafficRoute, "relpath", "Accepted").message.find("must start with /"),
            std::string::npos);
  EXPECT_EQ(view_.routes["backend"]->at("metadata")["name"], "good");
  Condition pertry = condition(Kind::kTrafficRoute, "pertry", "Accepted");
  EXPECT_EQ(pertry.status, "True");
  EXPECT_NE(pertry.message.find("backendRequest is not applied"), std::string::npos)
      << "accepted, but never silently ignored";
}

TEST_F(ResolveTest, AccessPolicyConditions) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: ok}
spec: {targetRef: {kind: Service, name: backend}, rules: [{}]}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: missing}
spec: {targetRef: {name: nope}, rules: [{}]}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: both}
spec: {targetRef: {name: backend}, selector: {matchLabels: {a: b}}, rules: [{}]}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: norules}
spec: {action: DENY}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: badid}
spec: {rules: [{from: {identities: [frontend]}}]}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: badaction}
spec: {action: MAYBE, rules: [{}]}
)");
  resolve();
  EXPECT_EQ(condition(Kind::kAccessPolicy, "ok", "Accepted").status, "True");
  EXPECT_EQ(condition(Kind::kAccessPolicy, "ok", "ResolvedRefs").status, "True");
  EXPECT_EQ(condition(Kind::kAccessPolicy, "missing", "ResolvedRefs").reason, "TargetNotFound");
  EXPECT_NE(condition(Kind::kAccessPolicy, "both", "Accepted").message.find("mutually exclusive"),
            std::string::npos);
  EXPECT_EQ(condition(Kind::kAccessPolicy, "norules", "Accepted").reason, "Invalid");
  EXPECT_NE(condition(Kind::kAccessPolicy, "badid", "Accepted").message.find("SPIFFE"),
            std::string::npos);
  EXPECT_EQ(condition(Kind::kAccessPolicy, "badaction", "Accepted").reason, "Invalid");
  ASSERT_EQ(view_.access.size(), 1u) << "only the accepted, resolved policy applies";
}

TEST_F(ResolveTest, MeshConditions) {
  load(objects_, R"(
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {mtls: {mode: LOOSE}, trustDomain: example.org}
---
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: second}
spec: {}
)");
  resolve();
  Condition bad = condition(Kind::kMesh, "default", "Accepted");
  EXPECT_EQ(bad.status, "False");
  EXPECT_EQ(bad.reason, "Invalid");
  EXPECT_NE(bad.message.find("spec.mtls.mode"), std::string::npos);
  EXPECT_EQ(mesh_.trustDomain, "cluster.local") << "an invalid Mesh changes nothing";
  EXPECT_EQ(mesh_.mtlsMode, "PERMISSIVE");
  EXPECT_EQ(condition(Kind::kMesh, "second", "Accepted").reason, "NotDefault");

  Objects fresh;
  objects_ = fresh;
  load(objects_, R"(
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {mtls: {mode: STRICT}, trustDomain: example.org, certificateLifetime: 12h}
)");
  resolve();
  EXPECT_EQ(condition(Kind::kMesh, "default", "Accepted").status, "True");
  EXPECT_EQ(mesh_.trustDomain, "example.org");
  EXPECT_EQ(mesh_.mtlsMode, "STRICT");
}

}  // namespace
}  // namespace weft::op::render
