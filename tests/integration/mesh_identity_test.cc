// Identity end to end: the real weft-operator (dir: mode, its own CA and
// tokens file) certifies two real weft-proxy processes, which then speak mTLS
// to each other: client -> outbound proxy -> mTLS -> inbound proxy -> backend.
// Without iptables, the EndpointSlice points at the server proxy's inbound
// listener and --inbound-app-port delivers to the backend.
#include <cstdlib>

#include <gtest/gtest.h>

#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kAuthority = "backend.demo.svc.cluster.local:8080";
constexpr const char* kBackendId = "spiffe://cluster.local/ns/demo/sa/backend";
constexpr const char* kFrontendId = "spiffe://cluster.local/ns/demo/sa/frontend";

// Two meshed pods on 127.0.0.1; the backend pod's app port is the backend's.
std::string meshYaml(unsigned short inboundPort, unsigned short appPort) {
  std::string inbound = std::to_string(inboundPort);
  std::string app = std::to_string(appPort);
  return R"(apiVersion: v1
kind: Service
metadata: {name: backend, namespace: demo}
spec:
  clusterIP: 198.51.100.20
  selector: {app: backend}
  ports: [{name: http, port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata:
  name: backend-0
  namespace: demo
  labels: {app: backend}
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: backend
  containers: [{name: app, image: app, ports: [{name: http, containerPort: )" +
         app + R"(}]}]
status: {podIP: 127.0.0.1}
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend-0
  namespace: demo
  labels: {app: frontend}
  annotations: {weft.io/injected: "0.1.0"}
spec:
  serviceAccountName: frontend
  containers: [{name: app, image: app}]
status: {podIP: 127.0.0.2}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: demo
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: )" +
         inbound + R"(, protocol: TCP}]
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: true}
    targetRef: {kind: Pod, name: backend-0, namespace: demo}
)";
}

constexpr const char* kDenyFrontend = R"(apiVersion: weft.io/v1alpha1
kind: AccessPolicy
metadata: {name: no-frontend, namespace: demo}
spec:
  targetRef: {kind: Service, name: backend}
  action: DENY
  rules:
    - from:
        serviceAccounts: [{name: frontend, namespace: demo}]
)";

class MeshIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = runProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                            "/CN=weft-test", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                            dir_.file("key.pem"), "-out", dir_.file("cert.pem")});
    ASSERT_EQ(cert.exitCode, 0) << cert.err;
    ASSERT_EQ(runProcess({"/bin/mkdir", dir_.file("mesh")}).exitCode, 0);
    dir_.write("mesh/identity-tokens.yaml",
               "tokens:\n  t-frontend: demo/frontend\n  t-backend: demo/backend\n");
    dir_.write("frontend-token", "t-frontend\n");
    dir_.write("backend-token", "t-backend\n");
    backend_ = std::make_unique<Backend>(dir_, "backend");
    inboundPort_ = freePort();
    dir_.write("mesh/mesh.yaml", meshYaml(inboundPort_, backend_->port()));

    discoveryPort_ = freePort();
    adminPort_ = freePort();
    operator_ = std::make_unique<Child>(
        std::vector<std::string>{
            WEFT_OPERATOR_BIN, "--source", "dir:" + dir_.file("mesh"), "--discovery-listen",
            "127.0.0.1:" + std::to_string(discoveryPort_), "--admin-listen",
            "127.0.0.1:" + std::to_string(adminPort_), "--tls-cert", dir_.file("cert.pem"),
            "--tls-key", dir_.file("key.pem"), "--issuer-dir", dir_.file("issuer")},
        dir_.file("operator.log"));
    ASSERT_TRUE(waitFor([&] {
      auto r = get(adminPort_, "admin", "/readyz", 500ms);
      return r && r->status == 200;
    })) << "operator never became ready";

    server_ = startProxy("backend-0", "backend", ProxyPorts{0, inboundPort_, 0});
    client_ = startProxy("frontend-0", "frontend", {});
    ASSERT_TRUE(waitFor([&] { return ready(*server_) && ready(*client_); }, 15s))
        << server_->log() << client_->log() << operatorLog();
    // The server's Inbound document (identity, rules) in force before requests.
    ASSERT_TRUE(waitFor(
        [&] {
          auto c = get(server_->ports().admin, "admin", "/config", 1s);
          return c && c->body.find("demo/backend-0") != std::string::npos;
        },
        10s))
        << server_->log();
  }

  std::unique_ptr<Proxy> startProxy(const std::string& pod, const std::string& sa,
                                    ProxyPorts ports) {
    ::setenv("POD_NAMESPACE", "demo", 1);
    ::setenv("POD_NAME", pod.c_str(), 1);
    ::setenv("SERVICE_ACCOUNT", sa.c_str(), 1);
    auto p = std::make_unique<Proxy>(
        dir_, "",
        std::vector<std::string>{
            "--control-plane", "127.0.0.1:" + std::to_string(discoveryPort_), "--control-plane-ca",
            dir_.file("cert.pem"), "--identity-token-file", dir_.file(sa + "-token"),
            "--inbound-app-port", std::to_string(backend_->port()), "--workers", "1"},
        ports);
    ::unsetenv("POD_NAME");
    ::unsetenv("SERVICE_ACCOUNT");
    ::unsetenv("POD_NAMESPACE");
    return p;
  }

  static bool ready(const Proxy& p) {
    auto r = get(p.ports().admin, "admin", "/ready", 1s);
    return r && r->status == 200;
  }

  std::string operatorLog() const {
    return runProcess({"/bin/cat", dir_.file("operator.log")}).out;
  }

  double metric(const Proxy& p, const std::string& name, const std::vector<std::string>& labels) {
    auto m = get(p.ports().admin, "admin", "/metrics", 2s);
    return m ? metricValue(m->body, name, labels) : -1;
  }

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
  unsigned short inboundPort_ = 0;
  unsigned short discoveryPort_ = 0;
  unsigned short adminPort_ = 0;
  std::unique_ptr<Child> operator_;
  std::unique_ptr<Proxy> server_;
  std::unique_ptr<Proxy> client_;
};

TEST_F(MeshIdentityTest, ProxiesCertifiedByTheOperatorSpeakMtlsAndObeyAccessPolicies) {
  auto r = get(client_->ports().outbound, kAuthority, "/hello");
  ASSERT_TRUE(r) << client_->log();
  EXPECT_EQ(r->status, 200) << r->header("weft-error") << " " << r->body << client_->log()
                            << server_->log();
  EXPECT_EQ(r->header("x-backend"), "backend");
  EXPECT_GE(metric(*client_, "weft_tls_handshakes_total", {"outbound", "result=\"ok\""}), 1);
  EXPECT_GE(metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"ok\""}), 1);
  EXPECT_GE(metric(*server_, "weft_inbound_requests_by_peer_total",
                   {std::string("peer=\"") + kFrontendId + "\""}),
            1);
  auto config = get(server_->ports().admin, "admin", "/config", 2s);
  ASSERT_TRUE(config);
  EXPECT_NE(config->body.find(std::string("\"identity\": \"") + kBackendId), std::string::npos)
      << config->body;

  dir_.write("mesh/policy.yaml", kDenyFrontend);
  ASSERT_TRUE(waitFor(
      [&] {
        auto d = get(client_->ports().outbound, kAuthority, "/hello");
        return d && d->status == 403;
      },
      10s))
      << server_->log() << operatorLog();
  auto denied = get(client_->ports().outbound, kAuthority, "/hello");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->header("weft-error"), "forbidden") << denied->body;
  EXPECT_GE(metric(*server_, "weft_authz_denied_total", {"protocol=\"http\""}), 1);
}

}  // namespace
}  // namespace weft::testing
