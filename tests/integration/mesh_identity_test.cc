// Identity end to end: the real weft-operator (dir: mode, its own CA and
// tokens file) certifies two real weft-proxy processes, which then speak mTLS
// to each other: client -> outbound proxy -> mTLS -> inbound proxy -> backend.
// Without iptables, the EndpointSlice points at the server proxy's inbound
// listener and --inbound-app-port delivers to the backend. Discovery takes
// only proxies with a workload certificate, each to its own pod's Inbound;
// the trust anchor rotates under load without a failed request.
#include <csignal>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "common/json/json.h"
#include "common/tls/pki.h"
#include "tests/fakes/fake_control_plane.h"
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
    std::vector<std::string> args{WEFT_OPERATOR_BIN,
                                  "--source",
                                  "dir:" + dir_.file("mesh"),
                                  "--discovery-listen",
                                  "127.0.0.1:" + std::to_string(discoveryPort_),
                                  "--admin-listen",
                                  "127.0.0.1:" + std::to_string(adminPort_),
                                  "--tls-cert",
                                  dir_.file("cert.pem"),
                                  "--tls-key",
                                  dir_.file("key.pem"),
                                  "--issuer-dir",
                                  dir_.file("issuer")};
    args.insert(args.end(), operatorExtra_.begin(), operatorExtra_.end());
    operator_ = std::make_unique<Child>(args, dir_.file("operator.log"));
    ASSERT_TRUE(waitFor([&] {
      auto r = get(adminPort_, "admin", "/readyz", 500ms);
      return r && r->status == 200;
    })) << "operator never became ready";

    server_ = startProxy("backend-0", "backend", ProxyPorts{0, inboundPort_, 0});
    if (clientLater_ > 0ms) {
      // Certified apart, the proxies renew apart.
      ASSERT_TRUE(waitFor([&] { return ready(*server_); }, 15s)) << server_->log();
      std::this_thread::sleep_for(clientLater_);
    }
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

  // The proxy of pod demo/<pod>; with the token of <sa>, or none when `sa` is empty.
  std::unique_ptr<Proxy> startProxy(const std::string& pod, const std::string& sa,
                                    ProxyPorts ports) {
    ::setenv("POD_NAMESPACE", "demo", 1);
    ::setenv("POD_NAME", pod.c_str(), 1);
    ::setenv("SERVICE_ACCOUNT", sa.c_str(), 1);
    std::vector<std::string> args{
        "--control-plane",    "127.0.0.1:" + std::to_string(discoveryPort_),
        "--control-plane-ca", dir_.file("cert.pem"),
        "--inbound-app-port", std::to_string(backend_->port()),
        "--workers",          "1"};
    if (!sa.empty()) {
      args.insert(args.end(), {"--identity-token-file", dir_.file(sa + "-token")});
    }
    auto p = std::make_unique<Proxy>(dir_, "", args, ports);
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
  double operatorMetric(const std::string& name, const std::vector<std::string>& labels = {}) {
    auto m = get(adminPort_, "admin", "/metrics", 2s);
    return m ? metricValue(m->body, name, labels) : -1;
  }

  std::vector<std::string> operatorExtra_;
  std::chrono::milliseconds clientLater_{0};
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

TEST_F(MeshIdentityTest, DiscoveryTakesOnlyAProxysOwnWorkloadCertificate) {
  // The two proxies of SetUp subscribed with their certificates.
  EXPECT_TRUE(waitFor([&] { return operatorMetric("weft_operator_discovery_streams") >= 2; }, 5s))
      << operatorLog();
  EXPECT_EQ(operatorMetric("weft_operator_discovery_refused_total"), 0) << operatorLog();

  // No token, so no certificate: refused, and the proxy says why.
  auto anonymous = startProxy("frontend-0", "", {});
  ASSERT_TRUE(waitFor(
      [&] {
        return operatorMetric("weft_operator_discovery_refused_total",
                              {"reason=\"no_certificate\""}) >= 1;
      },
      10s))
      << operatorLog();
  ASSERT_TRUE(waitFor([&] { return anonymous->log().find("HTTP 401") != std::string::npos; }, 5s))
      << anonymous->log();
  EXPECT_NE(anonymous->log().find("a workload certificate is required"), std::string::npos)
      << anonymous->log();

  // The frontend's certificate asking for the backend pod's Inbound stream.
  auto impostor = startProxy("backend-0", "frontend", {});
  ASSERT_TRUE(waitFor([&] { return ready(*impostor); }, 10s)) << impostor->log();
  ASSERT_TRUE(waitFor([&] { return impostor->log().find("HTTP 403") != std::string::npos; }, 10s))
      << impostor->log() << operatorLog();
  EXPECT_NE(impostor->log().find("only the pod's own proxy"), std::string::npos) << impostor->log();
  EXPECT_GE(operatorMetric("weft_operator_discovery_refused_total", {"reason=\"forbidden\""}), 1);
  auto config = get(impostor->ports().admin, "admin", "/config", 2s);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->body.find("demo/backend-0"), std::string::npos)
      << "the backend's rules must not reach another workload\n"
      << config->body;
}

// A trust-anchor rotation under load, as docs/operator.md tells it: the new
// root beside the old one in --issuer-dir, then an issuer under the new root,
// then the old root dropped, each picked up at once on SIGHUP. Certificates
// live 6 s, so both proxies renew onto the new chain, each at its own time. The
// TrafficPolicy keeps no idle upstream connection and the load is paced, so
// requests keep making new mTLS handshakes through every step.
class AnchorRotationTest : public MeshIdentityTest {
 protected:
  AnchorRotationTest() {
    operatorExtra_ = {"--certificate-lifetime", "6s"};
    clientLater_ = 2s;
  }

  // workloadIdentity of a proxy's /config; null when unreadable.
  json::Json identityOf(const Proxy& p) {
    auto c = get(p.ports().admin, "admin", "/config", 1s);
    auto doc = c ? json::parse(c->body) : Result<json::Json>(makeError(ErrorCode::kIo, ""));
    return doc && doc->contains("workloadIdentity") ? (*doc)["workloadIdentity"] : json::Json();
  }
  bool both(const std::function<bool(const json::Json&)>& pred) {
    for (const Proxy* p : {server_.get(), client_.get()}) {
      auto id = identityOf(*p);
      if (id.is_null() || !pred(id)) {
        return false;
      }
    }
    return true;
  }
  void sighupOperator() { ::kill(operator_->pid(), SIGHUP); }
  double handshakes(const std::string& result) {
    return metric(*client_, "weft_tls_handshakes_total",
                  {"outbound", "result=\"" + result + "\""}) +
           metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"" + result + "\""});
  }
};

TEST_F(AnchorRotationTest, TheTrustAnchorRotatesUnderLoadWithoutAFailedRequest) {
  dir_.write("mesh/policy.yaml", R"(apiVersion: weft.io/v1alpha1
kind: TrafficPolicy
metadata: {name: backend, namespace: demo}
spec:
  targetRef: {kind: Service, name: backend}
  timeouts: {idle: 1ms}
)");
  ASSERT_TRUE(waitFor(
      [&] {
        auto r = get(client_->ports().outbound, kAuthority, "/warm-up");
        auto c = get(client_->ports().admin, "admin", "/config", 1s);
        return r && r->status == 200 && c && c->body.find("\"idle\": \"1ms\"") != std::string::npos;
      },
      10s))
      << client_->log() << operatorLog();

  // Bounded load: new client connections paced so that upstream connections
  // go idle past 1 ms (a new handshake each), and one kept-alive connection.
  std::atomic<bool> stop{false};
  std::atomic<int> total{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto record = [&](const std::optional<Response>& r) {
    ++total;
    if (!r || r->status != 200) {
      ++failed;
      std::lock_guard lock(mu);
      if (failures.size() < 5) {
        failures.push_back(r ? std::to_string(r->status) + " " + r->header("weft-error") + " " +
                                   r->body
                             : "no response");
      }
    }
  };
  std::thread fresh([&] {
    while (!stop) {
      record(get(client_->ports().outbound, kAuthority, "/fresh"));
      std::this_thread::sleep_for(3ms);  // pacing: the pooled connection goes stale
    }
  });
  std::thread kept([&] {
    std::optional<Client> c;
    while (!stop) {
      if (!c) {
        c.emplace(client_->ports().outbound, 5s);
      }
      std::optional<Response> r;
      if (c->send(request("GET", "/kept", kAuthority))) {
        r = c->read();
      }
      record(r);
      if (!r || r->closed) {
        c.reset();
      }
    }
  });
  auto stopLoad = [&] {
    stop = true;
    fresh.join();
    kept.join();
  };

  auto next = MeshCa::create("next");
  ASSERT_TRUE(next.ok()) << next.error().message;
  auto fp = [](const std::string& pem) {
    return weft::tls::fingerprint(weft::tls::parseCert(pem).value());
  };
  const std::string newRoot = fp(next->rootPem);
  const std::string newIssuer = fp(next->issuerPem);
  auto oldRootPem = runProcess({"/bin/cat", dir_.file("issuer/ca.crt")}).out;
  ASSERT_FALSE(oldRootPem.empty());
  const std::string oldRoot = fp(oldRootPem);
  auto trusts = [](const json::Json& id, const std::string& root) {
    for (const auto& f : id["trustBundleSha256"]) {
      if (f == root) {
        return true;
      }
    }
    return false;
  };
  std::this_thread::sleep_for(1s);  // load before the first step
  double handshakesBefore = handshakes("ok");

  // 1. The new root beside the old one: every proxy trusts both.
  dir_.write("issuer/ca.crt", oldRootPem + next->rootPem);
  sighupOperator();
  ASSERT_TRUE(waitFor(
      [&] {
        return both([&](const json::Json& id) {
          return trusts(id, oldRoot) && trusts(id, newRoot) && id["trustBundleSha256"].size() == 2;
        });
      },
      10s))
      << operatorLog() << client_->log();

  // 2. The issuer under the new root: the proxies renew onto it (root.key,
  // the old root's, stays: the operator must not re-issue under it).
  dir_.write("issuer/tls.key", weft::tls::privateKeyPem(next->issuerKey).value());
  dir_.write("issuer/tls.crt", next->issuerPem);
  sighupOperator();
  std::map<std::string, std::chrono::steady_clock::time_point> switched;
  double handshakesAtFirstSwitch = 0;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor(
      [&] {
        for (const auto& [name, p] :
             {std::pair{"server", server_.get()}, std::pair{"client", client_.get()}}) {
          auto id = identityOf(*p);
          if (!switched.contains(name) && !id.is_null() && id["chainSha256"].size() == 2 &&
              id["chainSha256"][1] == newIssuer) {
            switched[name] = std::chrono::steady_clock::now();
            if (switched.size() == 1) {
              handshakesAtFirstSwitch = handshakes("ok");
            }
          }
        }
        return switched.size() == 2;
      },
      15s))
      << operatorLog() << server_->log() << client_->log();
  for (const auto& [name, at] : switched) {
    std::printf("%s proxy on the new chain after %lld ms\n", name.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(at - start).count()));
  }
  // One proxy on the new chain, the other on the old, for a while: they
  // kept shaking hands across it.
  auto apart = switched["server"] - switched["client"];
  EXPECT_GT(std::chrono::abs(apart), 1s) << "the proxies renewed together";
  EXPECT_GT(handshakesAtFirstSwitch, handshakesBefore);
  EXPECT_GT(handshakes("ok"), handshakesAtFirstSwitch) << "no handshake across old and new chains";

  // 3. No leaf uses the old root any more: drop it.
  dir_.write("issuer/ca.crt", next->rootPem);
  sighupOperator();
  ASSERT_TRUE(waitFor(
      [&] {
        return both([&](const json::Json& id) {
          return id["trustBundleSha256"].size() == 1 && trusts(id, newRoot);
        });
      },
      10s))
      << operatorLog() << client_->log();
  // Renewals and handshakes on the new root alone.
  double handshakesAfterDrop = handshakes("ok");
  std::this_thread::sleep_for(3s);
  stopLoad();

  {
    std::lock_guard lock(mu);
    for (const auto& f : failures) {
      ADD_FAILURE() << "failed request: " << f;
    }
  }
  EXPECT_EQ(failed.load(), 0) << "of " << total.load();
  EXPECT_GT(total.load(), 500);
  EXPECT_GT(handshakes("ok"), handshakesAfterDrop) << "no handshake on the new root alone";
  EXPECT_EQ(handshakes("failed"), 0) << server_->log() << client_->log();
  EXPECT_EQ(handshakes("identity_mismatch"), 0);
  EXPECT_EQ(operatorMetric("weft_operator_discovery_refused_total"), 0) << operatorLog();
  // Discovery streams came back with the new certificates (each ends when its certificate does).
  EXPECT_GE(operatorMetric("weft_operator_discovery_streams"), 2);
  std::printf("%d requests, %.0f mTLS handshakes (both sides), no failure\n", total.load(),
              handshakes("ok"));
  auto tlsCrt = runProcess({"/bin/cat", dir_.file("issuer/tls.crt")}).out;
  EXPECT_EQ(tlsCrt, next->issuerPem) << "the operator re-issued the user's issuer";
}

}  // namespace
}  // namespace weft::testing
