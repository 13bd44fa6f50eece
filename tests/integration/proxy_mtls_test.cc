// Mutual TLS between two real weft-proxy processes, with real certificates
// from a fake control plane's CA: client -> outbound proxy -> mTLS -> inbound
// proxy -> backend, all on loopback. Without iptables, the outbound proxy's
// endpoint is the inbound proxy's listener and --inbound-app-port delivers to
// the backend.
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "common/json/json.h"
#include "tests/fakes/fake_control_plane.h"
#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kAuthority = "backend.demo.svc.cluster.local:8080";
constexpr const char* kBackendId = "spiffe://cluster.local/ns/demo/sa/backend";
constexpr const char* kFrontendId = "spiffe://cluster.local/ns/demo/sa/frontend";

// `policy` (JSON) is the Outbound's policy, e.g. to keep no idle connection.
std::string outboundJson(unsigned short inboundPort, const std::string& identity,
                         const std::string& policy = "{}") {
  return std::string(R"({"kind":"Outbound","version":"1","authority":")") + kAuthority +
         R"(","policy":)" + policy + R"(,"backends":{")" + kAuthority +
         R"(":{"endpoints":[{"address":"127.0.0.1:)" + std::to_string(inboundPort) +
         R"(","meshed":true,"identity":")" + identity + R"("}]}}})";
}

std::string inboundJson(unsigned short appPort, const std::string& mtls,
                        const std::string& authorization = "{\"rules\":[]}") {
  return std::string(R"({"kind":"Inbound","version":"1","pod":"demo/backend-0","identity":")") +
         kBackendId + R"(","mtls":")" + mtls + R"(","ports":[{"port":)" + std::to_string(appPort) +
         R"(,"protocol":"http"}],"authorization":)" + authorization + "}";
}

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = FakeControlPlane::start(dir_.path());
    ASSERT_TRUE(cp) << cp.error().message;
    cp_ = std::move(*cp);
    cp_->addToken("frontend-token", "demo", "frontend");
    cp_->addToken("backend-token", "demo", "backend");
    dir_.write("frontend-token", "frontend-token\n");
    dir_.write("backend-token", "backend-token\n");
    backend_ = std::make_unique<Backend>(dir_, "backend");
  }

  // The proxy of pod demo/<name> with service account <sa>, certified by `cp`.
  std::unique_ptr<Proxy> startProxy(FakeControlPlane& cp, const std::string& name,
                                    const std::string& sa, unsigned short appPort = 0) {
    ::setenv("POD_NAMESPACE", "demo", 1);
    ::setenv("POD_NAME", name.c_str(), 1);
    ::setenv("SERVICE_ACCOUNT", sa.c_str(), 1);
    auto p = std::make_unique<Proxy>(
        dir_, "",
        std::vector<std::string>{
            "--control-plane", cp.address(), "--control-plane-ca", cp.servingCaFile(),
            "--identity-token-file", dir_.file(sa + "-token"), "--inbound-app-port",
            std::to_string(appPort != 0 ? appPort : backend_->port()), "--workers", "2"});
    ::unsetenv("POD_NAME");
    return p;
  }

  static bool ready(const Proxy& p) {
    auto r = get(p.ports().admin, "admin", "/ready", 1s);
    return r && r->status == 200;
  }

  // Both proxies up and certified; the inbound one with `inbound` as its document.
  void startMesh(const std::string& inbound, const std::string& expectedIdentity = kBackendId,
                 FakeControlPlane* serverCp = nullptr, unsigned short appPort = 0,
                 const std::string& policy = "{}") {
    FakeControlPlane& scp = serverCp != nullptr ? *serverCp : *cp_;
    scp.setDocument("inbound:demo/backend-0", inbound);
    server_ = startProxy(scp, "backend-0", "backend", appPort);
    client_ = startProxy(*cp_, "frontend-0", "frontend");
    ASSERT_TRUE(waitFor([&] { return ready(*server_) && ready(*client_); }, 10s))
        << server_->log() << client_->log();
    cp_->setDocument(kAuthority, outboundJson(server_->ports().inbound, expectedIdentity, policy));
    // The inbound document (mode, rules) must be in force before requests.
    ASSERT_TRUE(waitFor(
        [&] {
          auto c = get(server_->ports().admin, "admin", "/config", 1s);
          return c && c->body.find("demo/backend-0") != std::string::npos;
        },
        10s));
  }

  std::optional<Response> call(const std::string& method, const std::string& path) {
    Client c(client_->ports().outbound, 5s);
    if (!c.send(request(method, path, kAuthority))) {
      return std::nullopt;
    }
    return c.read();
  }

  double metric(const Proxy& p, const std::string& name, const std::vector<std::string>& labels) {
    auto m = get(p.ports().admin, "admin", "/metrics", 2s);
    return m ? metricValue(m->body, name, labels) : -1;
  }

  TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Proxy> server_;
  std::unique_ptr<Proxy> client_;
};

TEST_F(MtlsTest, ChainWorksAndThePeerIdentityIsChecked) {
  startMesh(inboundJson(backend_->port(), "PERMISSIVE"));
  auto r = call("GET", "/hello");
  ASSERT_TRUE(r) << client_->log();
  EXPECT_EQ(r->status, 200) << r->body << client_->log() << server_->log();
  EXPECT_EQ(r->header("x-backend"), "backend");
  EXPECT_GE(metric(*client_, "weft_tls_handshakes_total", {"outbound", "result=\"ok\""}), 1);
  EXPECT_GE(metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"ok\""}), 1);
  EXPECT_GE(metric(*server_, "weft_inbound_requests_by_peer_total",
                   {std::string("peer=\"") + kFrontendId + "\""}),
            1);
  EXPECT_GT(metric(*server_, "weft_identity_certificate_expiry_timestamp_seconds", {}), 1e9);
  auto config = get(server_->ports().admin, "admin", "/config", 2s);
  ASSERT_TRUE(config);
  EXPECT_NE(config->body.find(std::string("\"identity\": \"") + kBackendId), std::string::npos)
      << config->body;
  EXPECT_NE(config->body.find("trustBundleSha256"), std::string::npos);
  EXPECT_EQ(config->body.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(MtlsTest, AWrongPeerIdentityIsRefused) {
  startMesh(inboundJson(backend_->port(), "PERMISSIVE"),
            "spiffe://cluster.local/ns/demo/sa/someone-else");
  auto r = call("GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("weft-error"), "tls_identity_mismatch") << r->body;
  EXPECT_NE(r->body.find(kBackendId), std::string::npos) << r->body;
  EXPECT_GE(
      metric(*client_, "weft_tls_handshakes_total", {"outbound", "result=\"identity_mismatch\""}),
      1);
}

TEST_F(MtlsTest, APeerFromAForeignCaIsRefused) {
  auto foreign = FakeControlPlane::start(dir_.path(), "foreign");
  ASSERT_TRUE(foreign) << foreign.error().message;
  (*foreign)->addToken("backend-token", "demo", "backend");
  startMesh(inboundJson(backend_->port(), "PERMISSIVE"), kBackendId, foreign->get());
  auto r = call("GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->header("weft-error"), "upstream_tls_error") << r->body;
  EXPECT_GE(metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"failed\""}), 1);
}

// The caller's side of expiry: an endpoint (openssl s_server speaking
// weft/http1) whose leaf expired is refused before the request goes out; the
// same server with a current leaf answers.
TEST_F(MtlsTest, APeerWithAnExpiredCertificateIsRefused) {
  client_ = startProxy(*cp_, "frontend-0", "frontend");
  ASSERT_TRUE(waitFor([&] { return ready(*client_); }, 10s)) << client_->log();
  auto now = std::chrono::system_clock::now();
  dir_.write("issuer.pem", cp_->ca().issuerPem);
  dir_.write("root.pem", cp_->ca().rootPem);
  auto serve = [&](const std::string& name, std::chrono::system_clock::time_point notAfter) {
    auto leaf = cp_->ca().issue(kBackendId, now - 2h, notAfter);
    EXPECT_TRUE(leaf.ok());
    dir_.write(name + ".pem", leaf->first);
    dir_.write(name + ".key", leaf->second);
    unsigned short port = freePort();
    auto server = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/openssl", "s_server", "-accept", std::to_string(port),
                                 "-cert", dir_.file(name + ".pem"), "-key",
                                 dir_.file(name + ".key"), "-cert_chain", dir_.file("issuer.pem"),
                                 "-CAfile", dir_.file("root.pem"), "-verify", "1", "-alpn",
                                 "weft/http1", "-tls1_3", "-www"},
        dir_.file(name + ".log"));
    EXPECT_TRUE(waitFor([&] { return Client(port, 200ms).connected(); }, 5s));
    cp_->setDocument(kAuthority, outboundJson(port, kBackendId));
    return server;
  };
  auto current = serve("current", now + 1h);
  ASSERT_TRUE(waitFor(
      [&] {
        auto r = call("GET", "/");
        return r && r->status == 200;
      },
      10s))
      << client_->log();
  double failedBefore =
      metric(*client_, "weft_tls_handshakes_total", {"outbound", "result=\"failed\""});
  auto expired = serve("expired", now - 1h);
  ASSERT_TRUE(waitFor(
      [&] {
        auto r = call("GET", "/");
        return r && r->status == 502;
      },
      10s))
      << client_->log();
  auto r = call("GET", "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("weft-error"), "upstream_tls_error") << r->body;
  EXPECT_GT(metric(*client_, "weft_tls_handshakes_total", {"outbound", "result=\"failed\""}),
            std::max(0.0, failedBefore));
}

// Two roots in both bundles, delivered on the Inbound streams: proxies
// certified by different CAs trust each other without a restart.
TEST_F(MtlsTest, ATrustBundleFromTheInboundDocumentLetsTheAnchorRotate) {
  auto foreign = FakeControlPlane::start(dir_.path(), "foreign");
  ASSERT_TRUE(foreign) << foreign.error().message;
  (*foreign)->addToken("backend-token", "demo", "backend");
  startMesh(inboundJson(backend_->port(), "PERMISSIVE"), kBackendId, foreign->get());
  auto before = call("GET", "/hello");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 502);

  json::Json bundle = {cp_->ca().rootPem, (*foreign)->ca().rootPem};
  auto withBundle = [&](std::string doc) {
    auto j = json::parse(doc).value();
    j["trustBundle"] = bundle;
    return json::dump(j);
  };
  (*foreign)->setDocument("inbound:demo/backend-0",
                          withBundle(inboundJson(backend_->port(), "PERMISSIVE")));
  auto frontend = json::parse(inboundJson(backend_->port(), "PERMISSIVE")).value();
  frontend["pod"] = "demo/frontend-0";
  frontend["identity"] = kFrontendId;
  cp_->setDocument("inbound:demo/frontend-0", withBundle(json::dump(frontend)));
  EXPECT_TRUE(waitFor(
      [&] {
        auto r = call("GET", "/hello");
        return r && r->status == 200;
      },
      15s))
      << client_->log() << server_->log();
  auto config = get(client_->ports().admin, "admin", "/config", 2s);
  ASSERT_TRUE(config);
  auto fp = weft::tls::fingerprint(weft::tls::parseCert((*foreign)->ca().rootPem).value());
  EXPECT_NE(config->body.find(fp), std::string::npos) << config->body;
}

// openssl s_client speaking to the inbound port as another proxy would.
// The server closes after the answer (Connection: close), which ends s_client.
RunResult sClient(unsigned short port, const std::string& cert, const std::string& key,
                  const std::string& chain, const std::string& ca) {
  return runProcess({"/usr/bin/openssl", "s_client", "-connect",
                     "127.0.0.1:" + std::to_string(port), "-alpn", "weft/http1", "-cert", cert,
                     "-key", key, "-cert_chain", chain, "-CAfile", ca, "-showcerts", "-ign_eof"},
                    "GET /s-client HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10s);
}

TEST_F(MtlsTest, OpensslSeesTheSpiffeIdAndAnExpiredClientCertificateIsRefused) {
  startMesh(inboundJson(backend_->port(), "STRICT"));
  auto now = std::chrono::system_clock::now();
  auto good = cp_->ca().issue(kFrontendId, now - 1h, now + 1h);
  auto expired = cp_->ca().issue(kFrontendId, now - 2h, now - 1h);
  ASSERT_TRUE(good && expired);
  dir_.write("good.pem", good->first);
  dir_.write("good.key", good->second);
  dir_.write("expired.pem", expired->first);
  dir_.write("expired.key", expired->second);
  dir_.write("root.pem", cp_->ca().rootPem);
  dir_.write("issuer.pem", cp_->ca().issuerPem);

  auto ok = sClient(server_->ports().inbound, dir_.file("good.pem"), dir_.file("good.key"),
                    dir_.file("issuer.pem"), dir_.file("root.pem"));
  EXPECT_NE(ok.out.find("HTTP/1.1 200"), std::string::npos) << ok.out << ok.err;
  // The server's certificate, as s_client printed it, carries the URI SAN.
  auto begin = ok.out.find("-----BEGIN CERTIFICATE-----");
  auto end = ok.out.find("-----END CERTIFICATE-----");
  ASSERT_NE(begin, std::string::npos) << ok.out;
  auto san = runProcess({"/usr/bin/openssl", "x509", "-noout", "-ext", "subjectAltName"},
                        ok.out.substr(begin, end + 25 - begin) + "\n");
  EXPECT_NE(san.out.find(std::string("URI:") + kBackendId), std::string::npos) << san.out;

  double failedBefore =
      metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"failed\""});
  auto bad = sClient(server_->ports().inbound, dir_.file("expired.pem"), dir_.file("expired.key"),
                     dir_.file("issuer.pem"), dir_.file("root.pem"));
  EXPECT_EQ(bad.out.find("HTTP/1.1"), std::string::npos) << bad.out;
  EXPECT_TRUE(waitFor(
      [&] {
        return metric(*server_, "weft_tls_handshakes_total", {"inbound", "result=\"failed\""}) >
               std::max(0.0, failedBefore);
      },
      5s));
}

// ALPN weft/tcp: the inbound proxy relays the decrypted bytes to the app's
// TCP port; authorization by identity closes a caller it does not allow.
TEST_F(MtlsTest, WeftTcpIsRelayedAndAuthorizedByIdentity) {
  EchoServer echo("hello\n");
  std::string tcpInbound =
      std::string(R"({"kind":"Inbound","version":"1","pod":"demo/backend-0",)") +
      R"("mtls":"STRICT","ports":[{"port":)" + std::to_string(echo.port()) +
      R"(,"protocol":"tcp"}],"authorization":{"rules":[{"action":"ALLOW",)" +
      R"("from":{"identities":[")" + kFrontendId + R"("]}}]}})";
  startMesh(tcpInbound, kBackendId, nullptr, echo.port());
  auto now = std::chrono::system_clock::now();
  auto frontend = cp_->ca().issue(kFrontendId, now - 1h, now + 1h);
  auto other = cp_->ca().issue("spiffe://cluster.local/ns/demo/sa/other", now - 1h, now + 1h);
  ASSERT_TRUE(frontend && other);
  dir_.write("f.pem", frontend->first);
  dir_.write("f.key", frontend->second);
  dir_.write("o.pem", other->first);
  dir_.write("o.key", other->second);
  dir_.write("issuer.pem", cp_->ca().issuerPem);
  dir_.write("root.pem", cp_->ca().rootPem);
  auto run = [&](const std::string& who) {
    return runProcess(
        {"/usr/bin/openssl", "s_client", "-connect",
         "127.0.0.1:" + std::to_string(server_->ports().inbound), "-alpn", "weft/tcp", "-cert",
         dir_.file(who + ".pem"), "-key", dir_.file(who + ".key"), "-cert_chain",
         dir_.file("issuer.pem"), "-CAfile", dir_.file("root.pem"), "-quiet"},
        "ping-over-mtls\n", 2s);  // the echo server never closes
  };
  auto allowed = run("f");
  EXPECT_NE(allowed.out.find("hello"), std::string::npos) << allowed.out << allowed.err;
  EXPECT_NE(allowed.out.find("ping-over-mtls"), std::string::npos) << allowed.out;
  auto denied = run("o");
  EXPECT_EQ(denied.out.find("hello"), std::string::npos) << denied.out;
  EXPECT_GE(metric(*server_, "weft_authz_denied_total", {"protocol=\"tcp\""}), 1);
}

TEST_F(MtlsTest, StrictRefusesPlaintextWhileMtlsPasses) {
  startMesh(inboundJson(backend_->port(), "STRICT"));
  auto viaMesh = call("GET", "/hello");
  ASSERT_TRUE(viaMesh);
  EXPECT_EQ(viaMesh->status, 200) << viaMesh->body;
  auto plain = get(server_->ports().inbound, "x", "/hello", 3s);
  EXPECT_FALSE(plain && plain->status == 200);
  EXPECT_GE(metric(*server_, "weft_proxy_errors_total", {"reason=\"plaintext_refused\""}), 1);
}

// The app of a meshed endpoint crashed while its proxy lives on: that proxy
// answers connect_refused, which means the request never reached an app, so
// the caller retries it elsewhere like a refused connect, even a POST.
TEST_F(MtlsTest, APeerWhoseAppIsDownIsRetriedElsewhereLikeARefusedConnect) {
  startMesh(inboundJson(backend_->port(), "PERMISSIVE"), kBackendId, nullptr, freePort());
  cp_->setDocument(
      kAuthority, std::string(R"({"kind":"Outbound","version":"2","authority":")") + kAuthority +
                      R"(","policy":{"loadBalancer":"round-robin"},"backends":{")" + kAuthority +
                      R"(":{"endpoints":[{"address":"127.0.0.1:)" +
                      std::to_string(server_->ports().inbound) + R"(","meshed":true,"identity":")" +
                      kBackendId + R"("},{"address":")" + backend_->address() + R"("}]}}})");
  // No request went out yet, so the first subscription already gets this document.
  for (int i = 0; i < 6; ++i) {
    auto r = call("POST", "/orders");
    ASSERT_TRUE(r) << client_->log();
    EXPECT_EQ(r->status, 200) << r->header("weft-error") << " " << r->body;
  }
  EXPECT_GE(metric(*server_, "weft_proxy_errors_total", {"reason=\"connect_refused\""}), 1);
  EXPECT_GE(metric(*client_, "weft_retries_total", {}), 1);
}

TEST_F(MtlsTest, AccessPolicyAllowsAndDeniesByIdentityPathAndMethod) {
  std::string rules = std::string(R"({"rules":[)") +
                      R"({"action":"DENY","paths":[{"type":"Exact","value":"/api/secret"}]},)" +
                      R"({"action":"ALLOW","from":{"identities":[")" + kFrontendId +
                      R"("]},"methods":["GET"],"paths":[{"type":"PathPrefix","value":"/api"}]},)" +
                      R"({"action":"ALLOW","from":{"namespaces":["ops"]}}]})";
  startMesh(inboundJson(backend_->port(), "PERMISSIVE", rules));
  auto allowed = call("GET", "/api/items");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  for (auto [method, path] : {std::pair{"POST", "/api/items"}, std::pair{"GET", "/admin"},
                              std::pair{"GET", "/api/secret"}}) {
    auto r = call(method, path);
    ASSERT_TRUE(r) << method << " " << path;
    EXPECT_EQ(r->status, 403) << method << " " << path;
    EXPECT_EQ(r->header("weft-error"), "forbidden");
    EXPECT_NE(r->body.find("authorization rule"), std::string::npos) << r->body;
  }
  // A plaintext caller has no identity: only rules without `from` could let it in.
  auto plain = get(server_->ports().inbound, "x", "/api/items", 3s);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 403);
  EXPECT_NE(plain->body.find("plaintext caller"), std::string::npos) << plain->body;
  EXPECT_GE(metric(*server_, "weft_authz_denied_total", {"protocol=\"http\""}), 4);
}

TEST_F(MtlsTest, ReadyOnlyWithACertificateWhichOutlivesAnOutageUntilItExpires) {
  cp_->setAvailable(false);
  cp_->setLifetime(6s);
  auto p = startProxy(*cp_, "frontend-0", "frontend");
  EXPECT_FALSE(waitFor([&] { return ready(*p); }, 500ms));
  cp_->setAvailable(true);
  ASSERT_TRUE(waitFor([&] { return ready(*p); }, 10s)) << p->log();
  cp_->setAvailable(false);
  auto failures = [&] {
    auto log = p->log();
    std::size_t n = 0;
    for (auto i = log.find("certify failed"); i != std::string::npos;
         i = log.find("certify failed", i + 1)) {
      ++n;
    }
    return n;
  };
  auto before = failures();
  // The renewal (at 70 % of the lifetime) fails, yet the old certificate
  // still serves...
  ASSERT_TRUE(waitFor([&] { return failures() > before; }, 10s)) << p->log();
  EXPECT_TRUE(ready(*p));
  // ...until it expires.
  EXPECT_TRUE(waitFor([&] { return !ready(*p); }, 10s)) << p->log();
}

// Leaves renewed every 1.4 s on both sides under load: connections opened
// before a swap keep working, and new handshakes (no idle upstream
// connection is kept, and fresh requests are paced past 1 ms) use the new
// leaves.
TEST_F(MtlsTest, LeafRotationUnderLoadLosesNoRequest) {
  cp_->setLifetime(2s);  // renewed every 1.4 s
  startMesh(inboundJson(backend_->port(), "STRICT"), kBackendId, nullptr, 0,
            R"({"timeouts":{"idle":"1ms"}})");
  int issuedBefore = cp_->issued();
  auto handshakes = [&](const char* result) {
    return metric(*client_, "weft_tls_handshakes_total",
                  {"outbound", std::string("result=\"") + result + "\""});
  };
  double handshakesBefore = handshakes("ok");
  int failures = 0, total = 0;
  auto until = std::chrono::steady_clock::now() + 4500ms;
  std::optional<Client> keepAlive;
  while (std::chrono::steady_clock::now() < until) {
    // Alternate a long-lived connection (kept through swaps) and new ones.
    bool fresh = total % 2 == 0;
    if (fresh) {
      std::this_thread::sleep_for(2ms);  // pacing: the pooled upstream connection goes stale
    }
    std::optional<Response> r;
    if (fresh) {
      r = call("GET", "/load");
    } else {
      if (!keepAlive) {
        keepAlive.emplace(client_->ports().outbound, 5s);
      }
      if (keepAlive->send(request("GET", "/load", kAuthority))) {
        r = keepAlive->read();
      }
    }
    ++total;
    if (!r || r->status != 200) {
      ++failures;
      ADD_FAILURE() << "request " << total << ": "
                    << (r ? std::to_string(r->status) + " " + r->body : "no response");
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(total, 50);
  EXPECT_GE(cp_->issued() - issuedBefore, 4);  // both proxies renewed at least twice
  // Handshakes throughout, so renewed leaves were really shown and checked.
  EXPECT_GT(handshakes("ok") - handshakesBefore, total / 4) << "of " << total << " requests";
  EXPECT_EQ(handshakes("failed"), 0);
}

}  // namespace
}  // namespace weft::testing
