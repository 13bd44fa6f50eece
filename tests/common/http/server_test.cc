// common/http Server over real loopback sockets: keep-alive, certificate reload
// without dropping connections, limits, malformed requests, framing checks.
#include "common/http/server.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/common/http/test_tls.h"

namespace weft::http {
namespace {

using testing::makeSelfSignedCert;
using testing::TempDir;
using testing::TestClient;
using testing::writeFileAtomically;

// Polls `done` every 10 ms for at most `limit`.
template <class F>
bool waitFor(F done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

Response echo(const Request& r) {
  return Response::text(200, r.method + " " + r.path + " " + r.query + " " + r.body);
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = makeSelfSignedCert("first");
    writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
    writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
  }
  std::unique_ptr<Server> start(Handler handler = echo) {
    ServerOptions o;
    o.certFile = dir_.file("tls.crt");
    o.keyFile = dir_.file("tls.key");
    o.certCheckInterval = std::chrono::milliseconds(20);
    o.maxHeaderBytes = 4096;
    o.maxBodyBytes = 64 * 1024;
    o.threads = 2;
    auto server = Server::start(o, std::move(handler));
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
    return server.ok() ? std::move(*server) : nullptr;
  }
  TempDir dir_;
};

TEST_F(TlsServerTest, ServesSeveralRequestsOnOneConnection) {
  auto server = start();
  ASSERT_TRUE(server);
  TestClient client(server->port(), true);
  for (int i = 0; i < 3; ++i) {
    auto reply = client.request("POST", "/echo?x=" + std::to_string(i), "body");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "POST /echo x=" + std::to_string(i) + " body");
    EXPECT_TRUE(reply.keepAlive);
  }
  EXPECT_EQ(client.peerCommonName(), "first");
}

TEST_F(TlsServerTest, ReloadsCertificateWithoutDroppingOpenConnection) {
  auto server = start();
  ASSERT_TRUE(server);
  EXPECT_EQ(server->certificateGeneration(), 1u);
  TestClient old(server->port(), true);
  ASSERT_EQ(old.request("GET", "/a").status, 200);

  auto next = makeSelfSignedCert("second");
  // Key first, then certificate: the intermediate pair does not match, the
  // server must keep serving the first certificate and pick up the pair later.
  writeFileAtomically(dir_.file("tls.key"), next.keyPem);
  writeFileAtomically(dir_.file("tls.crt"), next.certPem);
  ASSERT_TRUE(waitFor([&] { return server->certificateGeneration() >= 2; }));

  TestClient fresh(server->port(), true);
  EXPECT_EQ(fresh.peerCommonName(), "second");
  EXPECT_EQ(fresh.request("GET", "/b").status, 200);
  // The connection opened before the reload is still the same and still served.
  EXPECT_EQ(old.peerCommonName(), "first");
  auto reply = old.request("GET", "/c");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "GET /c  ");
}

TEST_F(TlsServerTest, BrokenReplacementKeepsCurrentCertificate) {
  auto server = start();
  ASSERT_TRUE(server);
  writeFileAtomically(dir_.file("tls.crt"), "not a certificate");
  // Give the reload loop many ticks to (wrongly) act on the broken file.
  TestClient probe(server->port(), true);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(probe.request("GET", "/").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server->certificateGeneration(), 1u);
  TestClient client(server->port(), true);
  EXPECT_EQ(client.peerCommonName(), "first");
}

TEST_F(TlsServerTest, OversizeHeaderIsRefusedWith431) {
  auto server = start();
  ASSERT_TRUE(server);
  TestClient client(server->port(), true);
  auto reply = client.request("GET", "/", "", {{"X-Big", std::string(8192, 'a')}});
  EXPECT_EQ(reply.status, 431);
  EXPECT_FALSE(reply.keepAlive);
  EXPECT_TRUE(client.peerClosed());
  TestClient other(server->port(), true);
  EXPECT_EQ(other.request("GET", "/").status, 200);
}

TEST_F(TlsServerTest, OversizeBodyIsRefusedWith413) {
  auto server = start();
  ASSERT_TRUE(server);
  TestClient client(server->port(), true);
  // Refused on the declared length, before the client sends the body.
  auto reply = client.raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n");
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(client.peerClosed());
}

TEST_F(TlsServerTest, MalformedRequestGets400AndOthersAreStillServed) {
  auto server = start();
  ASSERT_TRUE(server);
  TestClient bystander(server->port(), true);
  ASSERT_EQ(bystander.request("GET", "/before").status, 200);
  TestClient bad(server->port(), true);
  auto reply = bad.raw("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  EXPECT_EQ(reply.status, 400);
  EXPECT_TRUE(bad.peerClosed());
  TestClient garbage(server->port(), true);
  EXPECT_EQ(garbage.raw("\x01\x02 nonsense\r\n\r\n").status, 400);
  EXPECT_EQ(bystander.request("GET", "/after").status, 200);
}

TEST_F(TlsServerTest, SmugglingFramingsAreRefused) {
  auto server = start();
  ASSERT_TRUE(server);
  {
    TestClient c(server->port(), true);
    EXPECT_EQ(
        c.raw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").status,
        400);
  }
  {
    TestClient c(server->port(), true);
    EXPECT_EQ(c.raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                  .status,
              400);
  }
  {
    TestClient c(server->port(), true);
    auto reply = c.raw(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "POST /  abc");
  }
}

TEST_F(TlsServerTest, HandlerExceptionBecomes500) {
  auto server = start([](const Request&) -> Response { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server);
  TestClient client(server->port(), true);
  EXPECT_EQ(client.request("GET", "/").status, 500);
  EXPECT_EQ(client.request("GET", "/").status, 500);  // and the connection survives
}

TEST_F(TlsServerTest, StopClosesIdleConnectionsAndRefusesNewOnes) {
  auto server = start();
  ASSERT_TRUE(server);
  TestClient idle(server->port(), true);
  ASSERT_EQ(idle.request("GET", "/").status, 200);
  auto port = server->port();
  auto began = std::chrono::steady_clock::now();
  server->stop(std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(4));
  EXPECT_TRUE(idle.peerClosed());
  EXPECT_THROW(TestClient(port, true), std::exception);
}

TEST(ServerTest, StartFailsOnMissingCertificate) {
  ServerOptions o;
  o.certFile = "/nonexistent/tls.crt";
  o.keyFile = "/nonexistent/tls.key";
  auto server = Server::start(o, echo);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("/nonexistent/tls.crt"), std::string::npos);
}

TEST(ServerTest, StartFailsOnMismatchedKey) {
  TempDir dir;
  writeFileAtomically(dir.file("a.crt"), makeSelfSignedCert("a").certPem);
  writeFileAtomically(dir.file("b.key"), makeSelfSignedCert("b").keyPem);
  ServerOptions o;
  o.certFile = dir.file("a.crt");
  o.keyFile = dir.file("b.key");
  auto server = Server::start(o, echo);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("does not match"), std::string::npos)
      << server.error().message;
}

TEST(ServerTest, ServesPlainHttp) {
  auto server = Server::start(ServerOptions{}, echo);
  ASSERT_TRUE(server.ok());
  TestClient client((*server)->port(), false);
  EXPECT_EQ(client.request("GET", "/plain").body, "GET /plain  ");
}

TEST(ServerTest, ParsesHostPort) {
  auto v4 = parseHostPort("0.0.0.0:9443");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "0.0.0.0");
  EXPECT_EQ(v4->second, 9443);
  auto v6 = parseHostPort("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_FALSE(parseHostPort("nohost").ok());
  EXPECT_FALSE(parseHostPort("a:99999").ok());
  EXPECT_FALSE(parseHostPort("a:8x").ok());
}

}  // namespace
}  // namespace weft::http
