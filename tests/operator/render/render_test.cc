// Rendering of Outbound and Inbound documents: every field, from the objects.
#include <functional>

#include <gtest/gtest.h>

#include "common/api/json.h"
#include "operator/src/render/documents.h"
#include "operator/src/render/policy.h"
#include "tests/operator/objects_fixture.h"

namespace weft::op::render {
namespace {

using json::Json;
using op::testing::load;
using op::testing::pod;
using op::testing::service;
using op::testing::slice;

class RenderTest : public ::testing::Test {
 protected:
  // The Outbound document for `authority` of Service demo/<svc>; null when absent.
  Json outbound(const std::string& svc, const std::string& authority) {
    std::vector<Verdict> verdicts;
    mesh_ = resolveMesh(objects_, verdicts);
    view_ = resolveNamespace(objects_, mesh_, "demo");
    ObjectPtr s = objects_.get(Kind::kService, "demo/" + svc);
    if (!s) {
      return nullptr;
    }
    for (auto& d : renderOutbound(objects_, mesh_, view_, *s)) {
      if (d.authority == authority) {
        EXPECT_EQ(d.doc["authority"], authority);
        EXPECT_EQ(d.doc["aliases"], Json(d.aliases));
        return d.doc;
      }
    }
    return nullptr;
  }
  Json inbound(const std::string& podName, std::vector<std::string>* problemsOut = nullptr) {
    std::vector<Verdict> verdicts;
    mesh_ = resolveMesh(objects_, verdicts);
    view_ = resolveNamespace(objects_, mesh_, "demo");
    std::vector<std::string> problems;
    Json doc = renderInbound(mesh_, view_, objects_, *objects_.get(Kind::kPod, "demo/" + podName),
                             problems);
    if (problemsOut) {
      *problemsOut = problems;
    }
    return doc;
  }
  Json endpoints(const Json& doc, const std::string& backend) {
    return doc["backends"][backend]["endpoints"];
  }

  Objects objects_;
  MeshView mesh_;
  NamespaceView view_;
};

constexpr const char* kBackend = "backend.demo.svc.cluster.local:8080";

TEST_F(RenderTest, AuthorityAliasesAndClusterIp) {
  load(objects_, service("backend", "198.51.100.20"));
  Json doc = outbound("backend", kBackend);
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["kind"], "Outbound");
  EXPECT_EQ(doc["aliases"], Json({"backend:8080", "backend.demo:8080", "backend.demo.svc:8080",
                                  "198.51.100.20:8080"}));
  EXPECT_EQ(doc["protocol"], "http");
  EXPECT_EQ(doc["routes"], Json::array());
  EXPECT_EQ(endpoints(doc, kBackend), Json::array());
}

TEST_F(RenderTest, DualStackAndHeadlessServices) {
  load(objects_, R"(
apiVersion: v1
kind: Service
metadata: {name: dual}
spec:
  clusterIP: 198.51.100.30
  clusterIPs: [198.51.100.30, "2001:db8::30"]
  ports: [{port: 80}, {port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec:
  clusterIP: None
  ports: [{port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  type: ExternalName
  externalName: example.org
  ports: [{port: 80}]
)");
  Json dual = outbound("dual", "dual.demo.svc.cluster.local:80");
  ASSERT_FALSE(dual.is_null());
  EXPECT_EQ(dual["aliases"][3], "198.51.100.30:80");
  EXPECT_EQ(dual["aliases"][4], "[2001:db8::30]:80");
  EXPECT_TRUE(outbound("dual", "dual.demo.svc.cluster.local:53").is_null()) << "UDP is skipped";
  Json headless = outbound("headless", "headless.demo.svc.cluster.local:9000");
  ASSERT_FALSE(headless.is_null());
  EXPECT_EQ(headless["aliases"].size(), 3u);
  EXPECT_TRUE(renderOutbound(objects_, mesh_, view_, *objects_.get(Kind::kService, "demo/external"))
                  .empty());
}

TEST_F(RenderTest, EndpointsCarryIdentityMeshedLabelsAndZone) {
  load(objects_, service("backend", "198.51.100.20") + pod("b-0", "backend", "backend-sa") +
                     R"(
apiVersion: v1
kind: Pod
metadata: {name: plain, labels: {app: backend}}
spec:
  containers: [{name: app}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-x
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - addresses: [192.0.2.11]
    zone: zone-a
    targetRef: {kind: Pod, name: b-0}
  - addresses: [192.0.2.12]
    conditions: {ready: true}
    targetRef: {kind: Pod, name: plain, namespace: demo}
  - addresses: [192.0.2.13]
    conditions: {ready: false}
  - addresses: [192.0.2.14]
    conditions: {ready: false, serving: true, terminating: true}
  - addresses: [not-an-ip]
)");
  Json eps = endpoints(outbound("backend", kBackend), kBackend);
  ASSERT_EQ(eps.size(), 3u) << eps.dump(2);
  EXPECT_EQ(eps[0]["address"], "192.0.2.11:8080");
  EXPECT_EQ(eps[0]["identity"], "spiffe://cluster.local/ns/demo/sa/backend-sa");
  EXPECT_EQ(eps[0]["meshed"], true);
  EXPECT_EQ(eps[0]["ready"], true);
  EXPECT_EQ(eps[0]["terminating"], false);
  EXPECT_EQ(eps[0]["weight"], 1);
  EXPECT_EQ(eps[0]["zone"], "zone-a");
  EXPECT_EQ(eps[0]["labels"], Json({{"app", "backend"}, {"version", "v1"}}))
      << "pod-template-hash is dropped";
  EXPECT_EQ(eps[1]["address"], "192.0.2.12:8080");
  EXPECT_EQ(eps[1]["meshed"], false);
  EXPECT_EQ(eps[1]["identity"], "") << "no proxy, no identity to expect";
  EXPECT_EQ(eps[2]["address"], "192.0.2.14:8080");
  EXPECT_EQ(eps[2]["ready"], false);
  EXPECT_EQ(eps[2]["terminating"], true) << "terminating endpoints stay so proxies drain them";
}

TEST_F(RenderTest, ServiceAccountDefaultsToDefault) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: v1
kind: Pod
metadata: {name: b-0, annotations: {weft.io/injected: "1"}}
spec: {containers: [{name: app}]}
---
)" + slice("s", "backend", {{"192.0.2.11", "b-0"}}));
  Json eps = endpoints(outbound("backend", kBackend), kBackend);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0]["identity"], "spiffe://cluster.local/ns/demo/sa/default");
}

TEST_F(RenderTest, TargetPortResolution) {
  load(objects_, R"(
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 198.51.100.40
  ports:
    - {name: http, port: 80, targetPort: web}
    - {name: admin, port: 81, targetPort: 9001}
    - {name: other, port: 82}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0}
spec:
  containers: [{name: app, ports: [{name: web, containerPort: 8081}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-portless
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
  - addresses: [192.0.2.21]
    targetRef: {kind: Pod, name: web-0}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-ported
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 7000}]
endpoints:
  - addresses: [192.0.2.22]
)");
  Json http =
      endpoints(outbound("web", "web.demo.svc.cluster.local:80"), "web.demo.svc.cluster.local:80");
  ASSERT_EQ(http.size(), 2u) << http.dump();
  EXPECT_EQ(http[0]["address"], "192.0.2.21:8081") << "named targetPort via the pod";
  EXPECT_EQ(http[1]["address"], "192.0.2.22:7000") << "the slice's port wins";
  Json admin =
      endpoints(outbound("web", "web.demo.svc.cluster.local:81"), "web.demo.svc.cluster.local:81");
  ASSERT_EQ(admin.size(), 1u) << "web-ported lists ports but not admin: " << admin.dump();
  EXPECT_EQ(admin[0]["address"], "192.0.2.21:9001") << "numeric targetPort";
  Json other =
      endpoints(outbound("web", "web.demo.svc.cluster.local:82"), "web.demo.svc.cluster.local:82");
  ASSERT_EQ(other.size(), 1u) << other.dump();
  EXPECT_EQ(other[0]["address"], "192.0.2.21:82") << "no targetPort: the port itself";
}

TEST_F(RenderTest, DuplicateAddressesAcrossSlicesCollapse) {
  load(objects_, service("backend", "198.51.100.20") +
                     slice("a", "backend", {{"192.0.2.11", ""}, {"192.0.2.12", ""}}) +
                     slice("b", "backend", {{"192.0.2.12", ""}}));
  EXPECT_EQ(endpoints(outbound("backend", kBackend), kBackend).size(), 2u);
}

TEST(ProtocolTest, AppProtocolThenNameThenPort) {
  EXPECT_EQ(protocolOf("kubernetes.io/h2c", "tcp", 80), "http");
  EXPECT_EQ(protocolOf("", "grpc-api", 5432), "http");
  EXPECT_EQ(protocolOf("", "tcp-db", 8080), "tcp");
  EXPECT_EQ(protocolOf("TLS", "", 8080), "tcp");
  EXPECT_EQ(protocolOf("", "", 5432), "tcp");
  EXPECT_EQ(protocolOf("", "", 8080), "http");
  EXPECT_EQ(protocolOf("", "metrics", 9090), "http");
}

TEST_F(RenderTest, PolicyDefaultsMeshThenServiceThenPort) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec:
  defaults:
    loadBalancer: {type: RoundRobin}
    timeouts: {connect: 2s, request: 30s}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: svc-wide}
spec:
  targetRef: {name: backend}
  timeouts: {request: 5s}
  retries: {attempts: 2, budget: {percent: 50, minPerSecond: 3}}
  circuitBreaker: {maxRequests: 10}
---
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: port-only}
spec:
  targetRef: {kind: Service, name: backend, port: 8080}
  timeouts: {request: 3s}
  retries: {retryOn: [5xx, reset], perTryTimeout: 1s, backoff: {base: 10ms, max: 1s}}
  outlierDetection: {consecutiveFailures: 7, baseEjection: 1m, maxEjectionPercent: 10}
)");
  Json p = outbound("backend", kBackend)["policy"];
  EXPECT_EQ(p["loadBalancer"], "round-robin");
  EXPECT_EQ(p["timeouts"]["connect"], "2s");
  EXPECT_EQ(p["timeouts"]["request"], "3s") << "port-specific applies after Service-wide";
  EXPECT_EQ(p["timeouts"]["perTry"], "1s");
  EXPECT_EQ(p["retries"]["attempts"], 2);
  EXPECT_EQ(p["retries"]["on"], Json({"5xx", "reset"}));
  EXPECT_EQ(p["retries"]["backoff"], Json({{"base", "10ms"}, {"max", "1s"}}));
  EXPECT_DOUBLE_EQ(p["retries"]["budget"]["ratio"].get<double>(), 0.5);
  EXPECT_EQ(p["retries"]["budget"]["minPerSecond"], 3);
  EXPECT_EQ(p["circuitBreaker"]["maxRequests"], 10);
  EXPECT_EQ(p["circuitBreaker"]["maxConnections"], 100000);
  EXPECT_EQ(p["outlierDetection"],
            Json({{"consecutiveFailures", 7}, {"baseEjection", "1m"}, {"maxEjectionPercent", 10}}));
}

TEST_F(RenderTest, DefaultPolicyMatchesTheDocumentation) {
  load(objects_, service("backend", "198.51.100.20"));
  Json p = outbound("backend", kBackend)["policy"];
  EXPECT_EQ(p, defaultPolicy());
  EXPECT_EQ(p["loadBalancer"], "p2c-ewma");
  EXPECT_EQ(p["timeouts"]["connect"], "1s");
  EXPECT_EQ(p["timeouts"]["request"], "15s");
  EXPECT_EQ(p["timeouts"]["perTry"], "");
  EXPECT_EQ(p["retries"]["attempts"], 3);
  EXPECT_EQ(p["retries"]["on"], Json({"connect-failure", "503"}));
  EXPECT_EQ(p["outlierDetection"]["consecutiveFailures"], 5);
}

TEST_F(RenderTest, RoutesWithWeightsFiltersFaultAndBackends) {
  load(objects_, service("backend", "198.51.100.20") + service("backend-v1", "198.51.100.21") +
                     service("backend-v2", "198.51.100.22") +
                     slice("v1", "backend-v1", {{"192.0.2.11", ""}}) +
                     slice("v2", "backend-v2", {{"192.0.2.13", ""}}) + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: canary}
spec:
  parentRefs: [{name: backend, port: 8080}]
  rules:
    - name: api
      matches:
        - path: {type: PathPrefix, value: /api}
          method: GET
          headers: [{name: X-Canary, value: "1"}, {name: x-debug, type: Present}]
          queryParams: [{name: q, type: RegularExpression, value: "^a+$"}]
      backendRefs:
        - {name: backend-v1, port: 8080, weight: 90}
        - {name: backend-v2, port: 8080, weight: 10}
      timeouts: {request: 2s}
      retry: {attempts: 2, retryOn: ["503"]}
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{name: X-A, value: b}]
            add: [{name: x-c, value: d}]
            remove: [x-e]
        - type: RequestMirror
          requestMirror: {backendRef: {name: backend-v2, port: 8080}, percent: 5}
      fault:
        delay: {duration: 100ms, percent: 10}
        abort: {status: 503, percent: 5}
    - backendRefs: [{name: backend-v1, port: 8080}]
)");
  Json doc = outbound("backend", kBackend);
  ASSERT_EQ(doc["routes"].size(), 2u) << doc.dump(2);
  Json r = doc["routes"][0];
  EXPECT_EQ(r["name"], "api");
  EXPECT_EQ(r["matches"][0]["path"], Json({{"type", "PathPrefix"}, {"value", "/api"}}));
  EXPECT_EQ(r["matches"][0]["method"], "GET");
  EXPECT_EQ(r["matches"][0]["headers"][0],
            Json({{"name", "X-Canary"}, {"type", "Exact"}, {"value", "1"}}));
  EXPECT_EQ(r["matches"][0]["headers"][1], Json({{"name", "x-debug"}, {"type", "Present"}}));
  EXPECT_EQ(r["matches"][0]["queryParams"][0]["type"], "RegularExpression");
  EXPECT_EQ(r["backends"],
            Json::parse(R"([{"name":"backend-v1.demo.svc.cluster.local:8080","weight":90},
                            {"name":"backend-v2.demo.svc.cluster.local:8080","weight":10}])"));
  EXPECT_EQ(r["timeout"], "2s");
  EXPECT_EQ(r["retries"], Json({{"attempts", 2}, {"on", {"503"}}}));
  EXPECT_EQ(r["requestHeaders"]["set"], Json({{"x-a", "b"}}));
  EXPECT_EQ(r["requestHeaders"]["add"], Json({{"x-c", "d"}}));
  EXPECT_EQ(r["requestHeaders"]["remove"], Json({"x-e"}));
  EXPECT_EQ(r["mirror"],
            Json({{"backend", "backend-v2.demo.svc.cluster.local:8080"}, {"percent", 5}}));
  EXPECT_EQ(r["fault"]["delay"], Json({{"duration", "100ms"}, {"percent", 10}}));
  EXPECT_EQ(r["fault"]["abort"], Json({{"status", 503}, {"percent", 5}}));
  EXPECT_EQ(doc["routes"][1]["name"], "canary-1");
  EXPECT_EQ(doc["routes"][1]["matches"],
            Json::parse(R"([{"path":{"type":"PathPrefix","value":"/"}}])"));
  // Every backend a route names is in the document, with its own endpoints.
  EXPECT_EQ(endpoints(doc, "backend-v1.demo.svc.cluster.local:8080")[0]["address"],
            "192.0.2.11:8080");
  EXPECT_EQ(endpoints(doc, "backend-v2.demo.svc.cluster.local:8080")[0]["address"],
            "192.0.2.13:8080");
  EXPECT_TRUE(doc["backends"].contains(kBackend));
}

TEST_F(RenderTest, UnresolvedRouteBackendIsPresentWithoutEndpoints) {
  load(objects_, service("backend", "198.51.100.20") + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: r}
spec:
  parentRefs: [{name: backend}]
  rules: [{backendRefs: [{name: missing, port: 8080}]}]
)");
  Json doc = outbound("backend", kBackend);
  ASSERT_EQ(doc["routes"].size(), 1u);
  EXPECT_EQ(endpoints(doc, "missing.demo.svc.cluster.local:8080"), Json::array())
      << "its share of traffic finds no endpoints rather than going elsewhere";
}

TEST_F(RenderTest, InboundPortsProbesIdentityAndMtls) {
  load(objects_, R"(
apiVersion: weft.io/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {trustDomain: example.org, mtls: {mode: STRICT}}
---
apiVersion: v1
kind: Pod
metadata:
  name: b-0
  annotations: {weft.io/probe-paths: '[{"port":8080,"path":"/healthz"},{"port":9090,"path":"/ready"}]'}
spec:
  serviceAccountName: backend
  containers:
    - name: app
      ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}]
    - name: db
      ports: [{containerPort: 5432}, {name: grpc, containerPort: 9090}]
)");
  Json doc = inbound("b-0");
  EXPECT_EQ(doc["kind"], "Inbound");
  EXPECT_EQ(doc["pod"], "demo/b-0");
  EXPECT_EQ(doc["identity"], "spiffe://example.org/ns/demo/sa/backend");
  EXPECT_EQ(doc["mtls"], "STRICT");
  EXPECT_EQ(doc["ports"], Json::parse(R"([{"port":5432,"protocol":"tcp"},
      {"port":8080,"protocol":"http"},{"port":9090,"protocol":"http"}])"));
  EXPECT_EQ(doc["probes"],
            Json::parse(R"([{"port":8080,"path":"/healthz"},{"port":9090,"path":"/ready"}])"));
  EXPECT_EQ(doc["authorization"]["rules"], Json::array());
  EXPECT_EQ(doc["trustBundle"], Json::array());
}

// A Job's pod injected in first-container mode, with the status the kubelet
// reports once the app has completed (shaped like a v1.26 kubelet's, not
// recorded: the fixtures have no kubelet).
constexpr const char* kCompletedJobPod = R"json({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "pi-x7k2p", "namespace": "demo", "uid": "5b1f0c9e-8d0a-4f6e-9b8f-2f0d3c1a7e11",
    "labels": {"batch.kubernetes.io/job-name": "pi", "job-name": "pi"},
    "annotations": {"weft.io/injected": "0.1.0", "weft.io/proxy-exit": "apps-done"},
    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "pi",
                         "uid": "0e6c5d7a-3b9f-4a0e-8c1d-6f2b4e9a1c33",
                         "controller": true, "blockOwnerDeletion": true}]
  },
  "spec": {
    "restartPolicy": "Never",
    "serviceAccountName": "default",
    "initContainers": [{"name": "weft-init", "image": "weft/proxy:0.1.0"}],
    "containers": [
      {"name": "weft-proxy", "image": "weft/proxy:0.1.0"},
      {"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}
    ]
  },
  "status": {
    "phase": "Running",
    "initContainerStatuses": [{
      "name": "weft-init", "ready": true, "restartCount": 0, "image": "weft/proxy:0.1.0",
      "imageID": "docker.io/weft/proxy@sha256:1d2c", "containerID": "containerd://a1",
      "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                               "startedAt": "2026-11-28T22:56:01Z", "finishedAt": "2026-11-28T22:56:01Z",
                               "containerID": "containerd://a1"}},
      "lastState": {}
    }],
    "containerStatuses": [
      {"name": "pi", "ready": false, "restartCount": 0, "started": false,
       "image": "docker.io/library/perl:5.34.0", "imageID": "docker.io/library/perl@sha256:2584f4",
       "containerID": "containerd://b2",
       "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                "startedAt": "2026-11-28T22:56:03Z", "finishedAt": "2026-11-28T22:56:09Z",
                                "containerID": "containerd://b2"}},
       "lastState": {}},
      {"name": "weft-proxy", "ready": true, "restartCount": 0, "started": true,
       "image": "docker.io/weft/proxy:0.1.0", "imageID": "docker.io/weft/proxy@sha256:1d2c",
       "containerID": "containerd://c3",
       "state": {"running": {"startedAt": "2026-11-28T22:56:02Z"}},
       "lastState": {}}
    ]
  }
})json";

class AppsDoneTest : public RenderTest {
 protected:
  // The Inbound document of kCompletedJobPod after `change`.
  Json render(const std::function<void(Json&)>& change) {
    Json pod = Json::parse(kCompletedJobPod);
    change(pod);
    objects_ = Objects();
    load(objects_, pod.dump());
    return inbound("pi-x7k2p");
  }
  static Json& app(Json& pod) { return pod["status"]["containerStatuses"][0]; }
};

TEST_F(AppsDoneTest, CompletedJobPodIsMarkedAndTheDocumentParses) {
  Json doc = render([](Json&) {});
  EXPECT_EQ(doc["appContainersTerminated"], true);
  doc["version"] = "1";
  auto parsed = api::inboundFromJson(doc);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->appContainersTerminated);
  // Owned by a Job is enough, without the injector's annotation.
  EXPECT_EQ(render([](Json& p) {
              p["metadata"]["annotations"].erase("weft.io/proxy-exit");
            })["appContainersTerminated"],
            true);
  // The annotation is enough too (a bare pod that runs to completion).
  EXPECT_EQ(
      render([](Json& p) { p["metadata"].erase("ownerReferences"); })["appContainersTerminated"],
      true);
}

TEST_F(AppsDoneTest, NotMarkedWhileAnyAppContainerRunsOrBeforeStatus) {
  EXPECT_FALSE(render([](Json& p) {
                 app(p)["state"] = {{"running", {{"startedAt", "2026-11-28T22:56:03Z"}}}};
               }).contains("appContainersTerminated"));
  EXPECT_FALSE(render([](Json& p) {
                 app(p)["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
               }).contains("appContainersTerminated"));
  EXPECT_FALSE(render([](Json& p) { p.erase("status"); }).contains("appContainersTerminated"));
  // A second app container not yet reported.
  EXPECT_FALSE(render([](Json& p) {
                 p["spec"]["containers"].push_back({{"name", "uploader"}});
               }).contains("appContainersTerminated"));
}

TEST_F(AppsDoneTest, NotMarkedForOtherPodsOrNativeSidecars) {
  // A Deployment's pod: restarts are the kubelet's business, never ours.
  EXPECT_FALSE(render([](Json& p) {
                 p["metadata"]["annotations"].erase("weft.io/proxy-exit");
                 p["metadata"]["ownerReferences"][0]["kind"] = "ReplicaSet";
                 p["metadata"]["ownerReferences"][0]["apiVersion"] = "apps/v1";
               }).contains("appContainersTerminated"));
  // Native sidecar: the kubelet stops the proxy itself.
  EXPECT_FALSE(render([](Json& p) {
                 Json proxy = p["spec"]["containers"][0];
                 proxy["restartPolicy"] = "Always";
                 p["spec"]["containers"].erase(0);
                 p["spec"]["initContainers"].insert(p["spec"]["initContainers"].begin(), proxy);
               }).contains("appContainersTerminated"));
}

TEST_F(AppsDoneTest, OnFailureWaitsForASuccessfulExit) {
  auto failed = [](Json& p) {
    p["spec"]["restartPolicy"] = "OnFailure";
    app(p)["state"]["terminated"]["exitCode"] = 1;
    app(p)["state"]["terminated"]["reason"] = "Error";
  };
  EXPECT_FALSE(render(failed).contains("appContainersTerminated"));
  EXPECT_EQ(
      render([](Json& p) { p["spec"]["restartPolicy"] = "OnFailure"; })["appContainersTerminated"],
      true);
  // Under Never a failed app is final: the Job records the failure.
  EXPECT_EQ(render([](Json& p) {
              app(p)["state"]["terminated"]["exitCode"] = 1;
            })["appContainersTerminated"],
            true);
}

TEST_F(RenderTest, BadProbeAnnotationIsReportedAndIgnored) {
  load(objects_, R"(
apiVersion: v1
kind: Pod
metadata: {name: b-0, annotations: {weft.io/probe-paths: '[{"port":0,"path":"x"}]'}}
spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b-1, annotations: {weft.io/probe-paths: 'not json'}}
spec: {containers: [{name: app}]}
)");
  std::vector<std::string> problems;
  EXPECT_EQ(inbound("b-0", &problems)["probes"], Json::array());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("weft.io/probe-paths"), std::string::npos);
  EXPECT_EQ(inbound("b-1", &problems)["probes"], Json::array());
  EXPECT_EQ(problems.size(), 1u);
}

TEST_F(RenderTest, AccessPolicyRulesReachSelectedPodsOnly) {
  load(objects_, service("backend", "198.51.100.20") + pod("b-0", "backend", "backend") +
                     pod("f-0", "frontend", "frontend") + R"(
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: callers, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRef: {kind: Service, name: backend}
  action: ALLOW
  rules:
    - from:
        serviceAccounts: [{name: frontend}, {name: ops, namespace: tools}]
        namespaces: [monitoring]
        identities: ["spiffe://other.org/ns/x/sa/y"]
      ports: [8080]
      methods: [GET, POST]
      paths: [{type: PathPrefix, value: /api}, {type: Exact, value: /v}]
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: deny-debug, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  selector: {matchExpressions: [{key: version, operator: In, values: [v1]}]}
  action: DENY
  rules: [{paths: [{type: PathPrefix, value: /debug}]}]
)");
  Json rules = inbound("b-0")["authorization"]["rules"];
  ASSERT_EQ(rules.size(), 2u) << rules.dump(2);
  EXPECT_EQ(rules[0]["action"], "ALLOW");
  EXPECT_EQ(rules[0]["from"]["identities"],
            Json({"spiffe://cluster.local/ns/demo/sa/frontend",
                  "spiffe://cluster.local/ns/tools/sa/ops", "spiffe://other.org/ns/x/sa/y"}));
  EXPECT_EQ(rules[0]["from"]["namespaces"], Json({"monitoring"}));
  EXPECT_EQ(rules[0]["ports"], Json({8080}));
  EXPECT_EQ(rules[0]["methods"], Json({"GET", "POST"}));
  EXPECT_EQ(rules[0]["paths"][1], Json({{"type", "Exact"}, {"value", "/v"}}));
  EXPECT_EQ(rules[1]["action"], "DENY");
  Json frontend = inbound("f-0")["authorization"]["rules"];
  ASSERT_EQ(frontend.size(), 1u) << "the Service-targeted policy does not select frontend";
  EXPECT_EQ(frontend[0]["action"], "DENY");
}

TEST(SelectorTest, MatchLabelsAndExpressions) {
  Json labels{{"app", "a"}, {"tier", "web"}};
  EXPECT_TRUE(selects(Json::object(), labels));
  EXPECT_TRUE(selects(Json{{"matchLabels", {{"app", "a"}}}}, labels));
  EXPECT_FALSE(selects(Json{{"matchLabels", {{"app", "b"}}}}, labels));
  auto expr = [](const char* op, Json values) {
    return Json{{"matchExpressions", {{{"key", "tier"}, {"operator", op}, {"values", values}}}}};
  };
  EXPECT_TRUE(selects(expr("In", {"web", "db"}), labels));
  EXPECT_FALSE(selects(expr("NotIn", {"web"}), labels));
  EXPECT_TRUE(selects(expr("Exists", Json::array()), labels));
  EXPECT_FALSE(selects(expr("DoesNotExist", Json::array()), labels));
  EXPECT_FALSE(selects(expr("Bogus", Json::array()), labels));
}

// The contract with the proxy: what the operator renders, common/api parses
// (strictly: no unknown fields) and writes back to the same content.
TEST_F(RenderTest, DocumentsParseWithTheSharedApi) {
  load(objects_, service("backend", "198.51.100.20") + service("backend-v1", "198.51.100.21") +
                     pod("b-0", "backend", "backend") +
                     slice("v1", "backend-v1", {{"192.0.2.11", "b-0"}}) +
                     slice("all", "backend", {{"192.0.2.11", "b-0"}}) + R"(
apiVersion: weft.io/v1alpha1
kind: TrafficRoute
metadata: {name: r}
spec:
  parentRefs: [{name: backend}]
  rules:
    - matches: [{path: {type: Exact, value: /x}, headers: [{name: a, type: Present}]}]
      backendRefs: [{name: backend-v1, port: 8080}]
      timeouts: {request: 1s}
      retry: {attempts: 2}
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [server]}}]
      fault: {abort: {status: 500, percent: 1}}
---
apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: a}
spec:
  rules: [{from: {namespaces: [demo]}, methods: [GET], paths: [{value: /}]}]
)");
  Json out = outbound("backend", kBackend);
  out["version"] = "1";
  auto parsed = api::outboundFromJson(out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message << "\n" << out.dump(2);
  EXPECT_EQ(parsed->backends.size(), 2u);
  EXPECT_EQ(parsed->routes.size(), 1u);
  EXPECT_EQ(parsed->backends[kBackend].endpoints[0].identity,
            "spiffe://cluster.local/ns/demo/sa/backend");
  Json in = inbound("b-0");
  in["version"] = "1";
  auto parsedIn = api::inboundFromJson(in);
  ASSERT_TRUE(parsedIn.ok()) << parsedIn.error().message << "\n" << in.dump(2);
  EXPECT_EQ(parsedIn->authorization.rules.size(), 1u);
  Json empty = emptyOutbound("nowhere.example:80");
  empty["version"] = "1";
  EXPECT_TRUE(api::outboundFromJson(empty).ok());
}

}  // namespace
}  // namespace weft::op::render
