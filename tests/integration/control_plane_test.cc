// The control plane drives the data plane: weft-operator in dir: mode streams
// documents to weft-proxy --control-plane over TLS, with no file in between.
#include <csignal>
#include <cstdlib>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kAuthority = "web.demo.svc.cluster.local:8080";

std::string meshYaml(unsigned short port, const std::vector<std::string>& ips) {
  std::string y = R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec:
  clusterIP: 198.51.100.30
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: http}]
---
# Round robin, so that sequential requests visibly reach every endpoint.
apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: web, namespace: demo}
spec:
  targetRef: {kind: Service, name: web}
  loadBalancer: {type: RoundRobin}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: demo
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
)";
  y += "ports: [{name: http, port: " + std::to_string(port) + ", protocol: TCP}]\nendpoints:\n";
  for (const auto& ip : ips) {
    y += "  - addresses: [" + ip + "]\n    conditions: {ready: true}\n";
  }
  return y;
}

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = runProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                            "/CN=weft-test", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                            dir_.file("key.pem"), "-out", dir_.file("cert.pem")});
    ASSERT_EQ(cert.exitCode, 0) << cert.err;
    mesh_ = dir_.path() + "/mesh";
    ASSERT_EQ(runProcess({"/bin/mkdir", mesh_}).exitCode, 0);
    // Two backends on loopback aliases, same port, as pods would be.
    backendPort_ = freePort();
    for (const char* ip : {"127.0.2.21", "127.0.2.22"}) {
      backends_.push_back(std::make_unique<Child>(
          std::vector<std::string>{WEFT_TEST_BACKEND_BIN, "--listen", ip, "--port",
                                   std::to_string(backendPort_), "--name", ip},
          dir_.file(std::string("backend-") + ip + ".log")));
    }
    writeMesh({"127.0.2.21", "127.0.2.22"});

    discoveryPort_ = freePort();
    adminPort_ = freePort();
    operator_ = std::make_unique<Child>(
        std::vector<std::string>{WEFT_OPERATOR_BIN, "--source", "dir:" + mesh_,
                                 "--discovery-listen",
                                 "127.0.0.1:" + std::to_string(discoveryPort_), "--admin-listen",
                                 "127.0.0.1:" + std::to_string(adminPort_), "--tls-cert",
                                 dir_.file("cert.pem"), "--tls-key", dir_.file("key.pem"),
                                 // The proxies here have no identity (no token), as in
                                 // local runs; mesh_identity_test covers the default.
                                 "--discovery-client-auth", "optional"},
        dir_.file("operator.log"));
    ASSERT_TRUE(waitFor([&] {
      auto r = get(adminPort_, "admin", "/readyz", 500ms);
      return r && r->status == 200;
    })) << "operator never became ready";
    for (const char* ip : {"127.0.2.21", "127.0.2.22"}) {
      ASSERT_TRUE(waitFor([&] {
        Client c(backendPort_, 200ms, ip);
        return c.connected();
      })) << "backend "
          << ip << " never listened";
    }
    proxy_ = std::make_unique<Proxy>(
        dir_, "",
        std::vector<std::string>{"--control-plane", "127.0.0.1:" + std::to_string(discoveryPort_),
                                 "--control-plane-ca", dir_.file("cert.pem"), "--workers", "1"});
  }

  void writeMesh(const std::vector<std::string>& ips) {
    dir_.write("mesh/web.yaml.tmp", meshYaml(backendPort_, ips));
    ASSERT_EQ(runProcess({"/bin/mv", dir_.file("mesh/web.yaml.tmp"), dir_.file("mesh/web.yaml")})
                  .exitCode,
              0);
  }

  // Which backend answered each of n requests (by its x-backend name).
  std::map<std::string, int> spread(int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      auto r = get(proxy_->ports().outbound, kAuthority, "/");
      seen[r ? (r->status == 200 ? r->header("x-backend") : std::to_string(r->status)) : "none"]++;
    }
    return seen;
  }

  TempDir dir_;
  std::string mesh_;
  unsigned short backendPort_ = 0;
  unsigned short discoveryPort_ = 0;
  unsigned short adminPort_ = 0;
  std::vector<std::unique_ptr<Child>> backends_;
  std::unique_ptr<Child> operator_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ControlPlaneTest, FirstRequestWaitsForItsDocumentAndSucceeds) {
  auto r = get(proxy_->ports().outbound, kAuthority, "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->header("weft-error") << " " << r->body << "\n" << proxy_->log();
}

// Clients that all start at once: every first request waits for the
// document, not only the one whose request started the subscription (the
// others used to be sent unrouted, to their original destination).
TEST_F(ControlPlaneTest, ConcurrentFirstRequestsAllWaitForTheDocument) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(proxy_->ports().outbound));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (auto& c : clients) {
    ASSERT_TRUE(c->send(request("GET", "/", kAuthority)));
  }
  for (auto& c : clients) {
    auto r = c->read();
    ASSERT_TRUE(r) << proxy_->log();
    EXPECT_EQ(r->status, 200) << r->header("weft-error") << " " << r->body;
  }
}

TEST_F(ControlPlaneTest, EndpointsComeFromTheOperatorAndFollowItsChanges) {
  auto seen = spread(40);
  EXPECT_GT(seen["127.0.2.21"], 0) << proxy_->log();
  EXPECT_GT(seen["127.0.2.22"], 0);
  EXPECT_EQ(seen["127.0.2.21"] + seen["127.0.2.22"], 40);

  // Remove an endpoint from the folder: the proxy stops using it within a second.
  auto changed = std::chrono::steady_clock::now();
  writeMesh({"127.0.2.21"});
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = spread(10);
        return s["127.0.2.21"] == 10;
      },
      5s))
      << proxy_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - changed, 1500ms);
}

TEST_F(ControlPlaneTest, ProxyKeepsItsLastConfigWhileTheOperatorIsDown) {
  ASSERT_EQ(spread(5)["none"], 0);
  operator_->stop(SIGKILL);
  auto seen = spread(20);
  EXPECT_EQ(seen["127.0.2.21"] + seen["127.0.2.22"], 20) << proxy_->log();
}

// A Job's pod in first-container mode (docs/api.md, appContainersTerminated):
// once the pod's status says its app container has terminated, the operator
// marks the pod's Inbound document and the pod's proxy drains and exits 0.
std::string jobPodYaml(const std::string& appState) {
  return R"(apiVersion: v1
kind: Pod
metadata:
  name: pi-x7k2p
  namespace: demo
  annotations: {weft.io/injected: "0.1.0", weft.io/proxy-exit: apps-done}
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: pi, uid: 0e6c5d7a, controller: true}]
spec:
  restartPolicy: Never
  containers: [{name: weft-proxy, image: weft/proxy}, {name: pi, image: perl}]
status:
  phase: Running
  containerStatuses:
    - {name: pi, ready: false, restartCount: 0, state: )" +
         appState + R"(}
    - {name: weft-proxy, ready: true, restartCount: 0, state: {running: {startedAt: "2026-11-28T22:56:02Z"}}}
)";
}

TEST_F(ControlPlaneTest, ProxyOfAJobPodExitsZeroOnceItsAppHasTerminated) {
  auto writePod = [&](const std::string& state) {
    dir_.write("mesh/job.yaml.tmp", jobPodYaml(state));
    ASSERT_EQ(runProcess({"/bin/mv", dir_.file("mesh/job.yaml.tmp"), dir_.file("mesh/job.yaml")})
                  .exitCode,
              0);
  };
  writePod(R"({running: {startedAt: "2026-11-28T22:56:03Z"}})");
  // The proxy learns its pod from the downward API's variables.
  ::setenv("POD_NAMESPACE", "demo", 1);
  ::setenv("POD_NAME", "pi-x7k2p", 1);
  Proxy jobProxy(dir_, "",
                 {"--control-plane", "127.0.0.1:" + std::to_string(discoveryPort_),
                  "--control-plane-ca", dir_.file("cert.pem"), "--workers", "1"});
  ::unsetenv("POD_NAMESPACE");
  ::unsetenv("POD_NAME");
  ASSERT_NE(jobProxy.ports().admin, 0) << jobProxy.log();
  ASSERT_TRUE(waitFor([&] {
    auto config = get(jobProxy.ports().admin, "x", "/config");
    return config && config->body.find("demo/pi-x7k2p") != std::string::npos;
  })) << jobProxy.log();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(jobProxy.child().running()) << "left while the app still runs";

  writePod(R"({terminated: {exitCode: 0, reason: Completed, startedAt: "2026-11-28T22:56:03Z",
      finishedAt: "2026-11-28T22:56:09Z", containerID: "containerd://b2"}})");
  EXPECT_TRUE(waitFor([&] { return !jobProxy.child().running(); }, 10s)) << jobProxy.log();
  EXPECT_EQ(jobProxy.child().stop(SIGKILL), 0) << jobProxy.log();
  EXPECT_TRUE(proxy_->child().running()) << "only the Job pod's proxy leaves";
}

}  // namespace
}  // namespace weft::testing
