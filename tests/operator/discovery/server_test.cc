// The discovery stream server over real TLS on loopback.
#include "operator/src/discovery/server.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/asio.h"
#include "common/json/json.h"
// Asio first (common/asio.h), then its TLS.
#include <boost/asio/ssl.hpp>
#include <sys/socket.h>

#include "operator/src/discovery/table.h"
#include "tests/fakes/fake_control_plane.h"
#include "tests/operator/stream_client.h"
#include "tests/support/process.h"

namespace weft::op::discovery {
namespace {

using json::Json;
using op::testing::StreamClient;
namespace net = boost::asio;

constexpr auto kWait = std::chrono::seconds(2);

Json outboundDoc(const std::string& authority, int endpoints, std::size_t padding = 0) {
  Json eps = Json::array();
  for (int i = 0; i < endpoints; ++i) {
    eps.push_back({{"address", "192.0.2." + std::to_string(i + 1) + ":8080"},
                   {"labels", {{"pad", std::string(padding, 'x')}}}});
  }
  return Json{{"kind", "Outbound"},
              {"authority", authority},
              {"backends", {{authority, {{"endpoints", eps}}}}}};
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = makeSelfSigned({"localhost"}, {"127.0.0.1"});
    ASSERT_TRUE(cert.ok()) << cert.error().message;
    caPem_ = cert->certPem;
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate = *cert;
    options.writeTimeout = std::chrono::milliseconds(3000);
    // These tests are about streaming; who may subscribe is ClientAuthServerTest's.
    options.clientAuth = ClientAuth::kOptional;
    if (configure_) {
      configure_(options);
    }
    auto server = Server::create(io_, table_, options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    table_.setListener([this](Stream s, const std::string& key) { server_->notify(s, key); });
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    onServer([this] { server_->stop(); });
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  // Runs `f` on the server's thread and waits for it.
  template <typename F>
  void onServer(F f) {
    std::promise<void> done;
    net::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  void publish(const std::string& authority, Json doc, std::vector<std::string> aliases = {}) {
    onServer([&] { table_.publishOutbound(authority, aliases, "a", std::move(doc)); });
  }
  std::unique_ptr<StreamClient> open(const std::string& target,
                                     const op::testing::ClientCertificate& cert = {}) {
    std::string error;
    auto c = StreamClient::open(server_->port(), target, caPem_, &error, kWait, cert);
    EXPECT_TRUE(c) << error;
    return c;
  }
  Json next(StreamClient& c) {
    auto line = c.nextLine(kWait);
    EXPECT_TRUE(line.has_value()) << "no document within the deadline";
    if (!line) {
      return nullptr;
    }
    auto j = json::parse(*line);
    EXPECT_TRUE(j.ok()) << *line;
    return j.ok() ? *j : Json();
  }
  ServerStats stats() {
    ServerStats s;
    onServer([&] { s = server_->stats(); });
    return s;
  }

  std::function<void(ServerOptions&)> configure_;
  net::io_context io_;
  DocumentTable table_;
  std::unique_ptr<Server> server_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
  std::thread thread_;
  std::string caPem_;
};

TEST_F(ServerTest, StreamsTheCurrentDocumentThenEveryChange) {
  publish("web.demo.svc.cluster.local:80", outboundDoc("web.demo.svc.cluster.local:80", 2));
  auto c = open("/v1/discovery/outbound?authority=web.demo.svc.cluster.local:80");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status(), 200);
  Json first = next(*c);
  EXPECT_EQ(first["backends"]["web.demo.svc.cluster.local:80"]["endpoints"].size(), 2u);
  std::string v1 = first["version"];
  EXPECT_FALSE(v1.empty());

  auto start = std::chrono::steady_clock::now();
  publish("web.demo.svc.cluster.local:80", outboundDoc("web.demo.svc.cluster.local:80", 1));
  Json second = next(*c);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(second["backends"]["web.demo.svc.cluster.local:80"]["endpoints"].size(), 1u);
  EXPECT_NE(second["version"], v1);
  EXPECT_LT(took, std::chrono::milliseconds(100)) << "pushed within 100 ms";

  // Publishing the same content again sends nothing.
  publish("web.demo.svc.cluster.local:80", outboundDoc("web.demo.svc.cluster.local:80", 1));
  EXPECT_FALSE(c->nextLine(std::chrono::milliseconds(200)).has_value());
  EXPECT_EQ(stats().openStreams, 1u);
}

// A renewed certificate serves new connections; open streams keep theirs and
// go on receiving documents.
TEST_F(ServerTest, NewCertificateServesNewConnectionsWhileStreamsStayUp) {
  const std::string authority = "web.demo.svc.cluster.local:80";
  const std::string target = "/v1/discovery/outbound?authority=" + authority;
  publish(authority, outboundDoc(authority, 1));
  auto before = open(target);
  ASSERT_TRUE(before);
  next(*before);

  auto renewed = makeSelfSigned({"localhost"}, {"127.0.0.1"});
  ASSERT_TRUE(renewed.ok());
  Result<void> swapped = okResult();
  onServer([&] { swapped = server_->setCertificate(*renewed); });
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  std::string error;
  EXPECT_FALSE(StreamClient::open(server_->port(), target, caPem_, &error, kWait))
      << "new connections get the new certificate";
  auto after = StreamClient::open(server_->port(), target, renewed->certPem, &error, kWait);
  ASSERT_TRUE(after) << error;
  next(*after);

  publish(authority, outboundDoc(authority, 2));
  EXPECT_EQ(next(*before)["backends"][authority]["endpoints"].size(), 2u);
  EXPECT_EQ(next(*after)["backends"][authority]["endpoints"].size(), 2u);
  EXPECT_EQ(stats().openStreams, 2u);
  EXPECT_EQ(stats().streamsTotal, 2u);

  // A key that is not the certificate's is refused; the current pair stays.
  auto other = makeSelfSigned({"localhost"}, {"127.0.0.1"});
  ASSERT_TRUE(other.ok());
  onServer([&] { swapped = server_->setCertificate({renewed->certPem, other->keyPem}); });
  EXPECT_FALSE(swapped.ok());
  EXPECT_TRUE(StreamClient::open(server_->port(), target, renewed->certPem, &error, kWait))
      << error;
}

TEST_F(ServerTest, UnknownAuthorityGetsNoEndpointsUntilItExists) {
  auto c = open("/v1/discovery/outbound?authority=Late.Demo.svc.cluster.local%3A8080");
  ASSERT_TRUE(c);
  Json empty = next(*c);
  EXPECT_EQ(empty["authority"], "late.demo.svc.cluster.local:8080") << "normalised";
  EXPECT_EQ(empty["backends"], Json::object());
  EXPECT_FALSE(empty["version"].get<std::string>().empty());
  publish("late.demo.svc.cluster.local:8080", outboundDoc("late.demo.svc.cluster.local:8080", 3));
  Json later = next(*c);
  EXPECT_EQ(later["backends"]["late.demo.svc.cluster.local:8080"]["endpoints"].size(), 3u);
}

TEST_F(ServerTest, AliasesAndInbound) {
  publish("web.demo.svc.cluster.local:80", outboundDoc("web.demo.svc.cluster.local:80", 2),
          {"198.51.100.7:80", "web.demo:80"});
  auto byIp = open("/v1/discovery/outbound?authority=198.51.100.7:80");
  ASSERT_TRUE(byIp);
  EXPECT_EQ(next(*byIp)["authority"], "web.demo.svc.cluster.local:80");

  onServer([&] {
    table_.publishInbound("demo/web-0", Json{{"kind", "Inbound"}, {"pod", "demo/web-0"}});
  });
  auto in = open("/v1/discovery/inbound?pod=demo/web-0");
  ASSERT_TRUE(in);
  Json doc = next(*in);
  EXPECT_EQ(doc["kind"], "Inbound");
  EXPECT_EQ(doc["pod"], "demo/web-0");
  auto unknown = open("/v1/discovery/inbound?pod=demo%2Fnobody");
  ASSERT_TRUE(unknown);
  Json none = next(*unknown);
  EXPECT_EQ(none["pod"], "demo/nobody");
  EXPECT_EQ(none["ports"], Json::array());
}

TEST_F(ServerTest, BadRequestsAreRefusedWithAReason) {
  struct Case {
    std::string target;
    int status;
    std::string text;
  };
  for (const auto& c : std::vector<Case>{
           {"/v1/discovery/outbound", 400, "missing query parameter authority"},
           {"/v1/discovery/outbound?authority=no-port", 400, "authority"},
           {"/v1/discovery/outbound?authority=a:1&authority=b:2", 400, "twice"},
           {"/v1/discovery/inbound?pod=Not_Valid/x", 400, "NAMESPACE/NAME"},
           {"/v1/discovery/inbound?pod=%zz", 400, "percent"},
           {"/v1/other", 404, "no such endpoint"},
       }) {
    auto client = open(c.target);
    ASSERT_TRUE(client) << c.target;
    EXPECT_EQ(client->status(), c.status) << c.target;
    std::string body = client->readAll(kWait);
    EXPECT_NE(body.find(c.text), std::string::npos) << c.target << ": " << body;
  }
  EXPECT_EQ(stats().rejected, 6u);
}

TEST_F(ServerTest, ParseTargetNormalises) {
  auto r = parseTarget("/v1/discovery/outbound?x=1&authority=WEB.demo.:80");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key, "web.demo:80");
  auto v6 = parseTarget("/v1/discovery/outbound?authority=%5B2001:db8::1%5D:80");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->key, "[2001:db8::1]:80");
}

TEST_F(ServerTest, ClosedClientsAreForgotten) {
  {
    auto c = open("/v1/discovery/outbound?authority=gone.demo:80");
    ASSERT_TRUE(c);
    next(*c);
    EXPECT_EQ(stats().openStreams, 1u);
  }
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (stats().openStreams != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(stats().openStreams, 0u) << "the server notices the close without writing";
}

// One client that never reads must not delay the others, and gets only the
// latest version once it drains (coalescing), not every version in between.
TEST_F(ServerTest, ASlowReaderDoesNotHoldUpOthers) {
  const std::string a = "busy.demo.svc.cluster.local:80";
  publish(a, outboundDoc(a, 50, 2000));
  auto slow = open("/v1/discovery/outbound?authority=" + a);
  auto fast = open("/v1/discovery/outbound?authority=" + a);
  ASSERT_TRUE(slow && fast);
  next(*fast);
  // ~100 KB per version; the slow client's socket buffers fill after a few.
  constexpr int kVersions = 60;
  for (int i = 0; i < kVersions; ++i) {
    publish(a, outboundDoc(a, 50, 2001 + i));
    Json got = next(*fast);
    ASSERT_FALSE(got.is_null()) << "version " << i << " did not reach the fast reader";
  }
  std::string latest = Json::parse(table_.outbound(a)->line)["version"];
  // Now drain the slow one: it must end on the latest version, having skipped some.
  int received = 0;
  std::string last;
  for (int i = 0; i < kVersions + 2; ++i) {
    auto line = slow->nextLine(std::chrono::milliseconds(1000));
    if (!line) {
      break;
    }
    ++received;
    last = Json::parse(*line)["version"];
    if (last == latest) {
      break;
    }
  }
  EXPECT_EQ(last, latest);
  EXPECT_LT(received, kVersions + 1) << "versions were coalesced";
  EXPECT_GT(stats().coalesced, 0u);
}

TEST(TlsTest, SelfSignedAndLoadedCertificatesMatch) {
  auto pair = makeSelfSigned({"localhost", "weft-control"}, {"127.0.0.1"});
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  EXPECT_NE(pair->certPem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(pair->keyPem.find("PRIVATE KEY"), std::string::npos);
  auto missing = loadCertificate("/nonexistent.pem", "/nonexistent.key");
  EXPECT_FALSE(missing.ok());
}

TEST_F(ServerTest, DeliveriesCountStreamsByTheirDocumentsCurrentVersion) {
  const std::string web = "web.demo.svc.cluster.local:80";
  publish(web, outboundDoc(web, 1), {"198.51.100.7:80"});
  auto byName = open("/v1/discovery/outbound?authority=" + web);
  auto byIp = open("/v1/discovery/outbound?authority=198.51.100.7:80");
  ASSERT_TRUE(byName && byIp);
  std::string v1 = next(*byName)["version"];
  EXPECT_EQ(next(*byIp)["version"], v1);
  auto deliveries = [&] {
    Deliveries d;
    onServer([&] { d = server_->deliveries(); });
    return d;
  };
  // Each stream is counted once its write completed; poll the server's thread, bounded.
  auto until = [&](const std::string& version, std::size_t delivered, std::size_t subscribed) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    Delivery d;
    do {
      auto all = deliveries();
      d = all.contains(version) ? all[version] : Delivery{};
      if (d.delivered == delivered && d.subscribed == subscribed) {
        return true;
      }
      std::this_thread::yield();
    } while (std::chrono::steady_clock::now() < deadline);
    ADD_FAILURE() << version << ": " << d.delivered << " of " << d.subscribed;
    return false;
  };
  EXPECT_TRUE(until(v1, 2, 2)) << "an alias counts for the document it resolves to";

  publish(web, outboundDoc(web, 2), {"198.51.100.7:80"});
  std::string v2 = next(*byName)["version"];
  EXPECT_NE(v2, v1);
  EXPECT_FALSE(deliveries().contains(v1)) << "counted by the current version only";
  next(*byIp);
  EXPECT_TRUE(until(v2, 2, 2));
  byIp.reset();
  EXPECT_TRUE(until(v2, 1, 1));
}

// POST /v1/identity/certify through curl: the handler sees the header and
// body; limits, methods and a slow answer that leaves the streams alone.
class CertifyRouteTest : public ServerTest {
 protected:
  CertifyRouteTest() {
    configure_ = [this](ServerOptions& o) {
      o.maxCertifyBody = 1024;
      o.readTimeout = std::chrono::milliseconds(500);
      o.certify = [this](std::string authorization, std::string body,
                         std::function<void(CertifyReply)> reply) {
        seen_.push_back(authorization + "|" + body);
        if (body == "hold") {
          held_ = std::move(reply);
        } else if (body == "busy") {
          reply({429, R"({"error":"slow down"})", 3});
        } else {
          reply({200, R"({"ok":true})", 0});
        }
      };
    };
  }
  weft::testing::RunResult curl(const std::string& body, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{
        "/usr/bin/curl", "-sk", "-i", "--max-time", "10", "-H", "Authorization: Bearer t0k",
        "--data-binary", body};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://127.0.0.1:" + std::to_string(server_->port()) + "/v1/identity/certify");
    return weft::testing::runProcess(argv);
  }
  std::vector<std::string> seen_;  // on the server's thread
  std::function<void(CertifyReply)> held_;
};

TEST_F(CertifyRouteTest, HandlerSeesTokenAndBodyAndItsAnswerIsSent) {
  auto ok = curl(R"({"csr":"x"})");
  EXPECT_NE(ok.out.find("HTTP/1.1 200"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find(R"({"ok":true})"), std::string::npos) << ok.out;
  auto busy = curl("busy");
  EXPECT_NE(busy.out.find("HTTP/1.1 429"), std::string::npos) << busy.out;
  EXPECT_NE(busy.out.find("Retry-After: 3"), std::string::npos) << busy.out;
  onServer([&] {
    ASSERT_EQ(seen_.size(), 2u);
    EXPECT_EQ(seen_[0], R"(Bearer t0k|{"csr":"x"})");
  });
}

TEST_F(CertifyRouteTest, LimitsAndMethods) {
  auto big = curl(std::string(2000, 'x'));
  EXPECT_NE(big.out.find("HTTP/1.1 413"), std::string::npos) << big.out;
  auto get = curl("", {"-G"});
  EXPECT_NE(get.out.find("HTTP/1.1 405"), std::string::npos) << get.out;
  onServer([&] { EXPECT_TRUE(seen_.empty()); });
}

TEST_F(CertifyRouteTest, APendingAnswerDoesNotHoldUpStreams) {
  publish("a.demo:80", outboundDoc("a.demo:80", 1));
  auto pending = std::async(std::launch::async, [this] { return curl("hold"); });
  bool held = false;
  for (int i = 0; i < 200 && !held; ++i) {
    onServer([&] { held = static_cast<bool>(held_); });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waiting for curl
  }
  ASSERT_TRUE(held);
  auto stream = open("/v1/discovery/outbound?authority=a.demo:80");
  ASSERT_TRUE(stream);
  EXPECT_EQ(next(*stream)["backends"]["a.demo:80"]["endpoints"].size(), 1u);
  publish("a.demo:80", outboundDoc("a.demo:80", 2));
  EXPECT_EQ(next(*stream)["backends"]["a.demo:80"]["endpoints"].size(), 2u);
  onServer([&] { held_({200, R"({"late":true})", 0}); });
  auto answer = pending.get();
  EXPECT_NE(answer.out.find(R"({"late":true})"), std::string::npos) << answer.out;
}

TEST_F(CertifyRouteTest, APartialBodyTimesOutWithoutStallingStreams) {
  net::io_context cio;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.set_verify_mode(net::ssl::verify_none);
  net::ssl::stream<net::ip::tcp::socket> slow(cio, ctx);
  slow.next_layer().connect({net::ip::make_address("127.0.0.1"), server_->port()});
  timeval tv{5, 0};  // a bounded wait below, whatever the server does
  ::setsockopt(slow.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  slow.handshake(net::ssl::stream_base::client);
  std::string head =
      "POST /v1/identity/certify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"csr\"";
  net::write(slow, net::buffer(head));

  publish("a.demo:80", outboundDoc("a.demo:80", 1));
  auto stream = open("/v1/discovery/outbound?authority=a.demo:80");
  ASSERT_TRUE(stream);
  EXPECT_EQ(next(*stream)["backends"]["a.demo:80"]["endpoints"].size(), 1u);

  // readTimeout is 500 ms: the server hangs up without calling the handler.
  auto start = std::chrono::steady_clock::now();
  char buf[256];
  boost::system::error_code ec;
  slow.read_some(net::buffer(buf), ec);
  EXPECT_TRUE(ec) << "expected the connection closed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  onServer([&] { EXPECT_TRUE(seen_.empty()); });
}

// An idle stream outlives the write timeout: that timeout bounds one write,
// not the quiet time between documents.
class IdleStreamTest : public ServerTest {
 protected:
  IdleStreamTest() {
    configure_ = [](ServerOptions& o) { o.writeTimeout = std::chrono::milliseconds(200); };
  }
};

TEST_F(IdleStreamTest, AnIdleStreamOutlivesTheWriteTimeout) {
  publish("idle.demo.svc.cluster.local:80", outboundDoc("idle.demo.svc.cluster.local:80", 1));
  auto c = open("/v1/discovery/outbound?authority=idle.demo.svc.cluster.local:80");
  ASSERT_TRUE(c);
  next(*c);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(stats().openStreams, 1u) << "the stream was cut while idle";
  publish("idle.demo.svc.cluster.local:80", outboundDoc("idle.demo.svc.cluster.local:80", 2));
  Json later = next(*c);
  EXPECT_EQ(later["backends"]["idle.demo.svc.cluster.local:80"]["endpoints"].size(), 2u);
}

// Client authentication with real certificates: the mesh CA's leaves, a
// foreign CA's, an expiring one; JSON refusals and their counts.
class ClientAuthServerTest : public ServerTest {
 protected:
  ClientAuthServerTest() {
    auto mesh = weft::testing::MeshCa::create("mesh");
    auto foreign = weft::testing::MeshCa::create("foreign");
    EXPECT_TRUE(mesh.ok() && foreign.ok());
    mesh_ = std::make_unique<weft::testing::MeshCa>(std::move(*mesh));
    foreign_ = std::make_unique<weft::testing::MeshCa>(std::move(*foreign));
    configure_ = [](ServerOptions& o) {
      o.clientAuth = ClientAuth::kRequire;
      o.trustDomain = [] { return std::string("cluster.local"); };
      o.podIdentity = [](const std::string& pod) -> std::optional<std::string> {
        if (pod == "demo/web-0") {
          return std::string(kWeb);
        }
        if (pod == "demo/db-0") {
          return std::string("spiffe://cluster.local/ns/demo/sa/db");
        }
        return std::nullopt;
      };
      o.certify = [](std::string, std::string, std::function<void(CertifyReply)> reply) {
        reply({200, R"({"certified":true})", 0});
      };
    };
  }
  void SetUp() override {
    ServerTest::SetUp();
    onServer([&] { ASSERT_TRUE(server_->setTrustBundle({mesh_->rootPem}).ok()); });
  }
  op::testing::ClientCertificate leaf(
      const weft::testing::MeshCa& ca, const std::string& id,
      std::chrono::system_clock::duration life = std::chrono::hours(1)) {
    auto now = std::chrono::system_clock::now();
    auto issued = ca.issue(id, now - std::chrono::minutes(5), now + life);
    EXPECT_TRUE(issued.ok());
    return {issued->first + ca.issuerPem, issued->second};
  }
  // The refusal's status and its JSON error.
  std::pair<int, std::string> refusal(const std::string& target,
                                      const op::testing::ClientCertificate& cert = {}) {
    auto c = open(target, cert);
    if (!c) {
      return {0, ""};
    }
    int status = c->status();
    auto body = json::parse(c->readAll(kWait));
    return {status, body.ok() ? (*body).value("error", "") : "not JSON"};
  }
  std::uint64_t refused(const std::string& reason) { return stats().refused[reason]; }

  static constexpr const char* kWeb = "spiffe://cluster.local/ns/demo/sa/web";
  std::unique_ptr<weft::testing::MeshCa> mesh_;
  std::unique_ptr<weft::testing::MeshCa> foreign_;
};

TEST_F(ClientAuthServerTest, AWorkloadCertificateOpensOutboundAndItsOwnInbound) {
  publish("a.demo:80", outboundDoc("a.demo:80", 1));
  auto web = leaf(*mesh_, kWeb);
  auto out = open("/v1/discovery/outbound?authority=a.demo:80", web);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status(), 200);
  EXPECT_EQ(next(*out)["backends"]["a.demo:80"]["endpoints"].size(), 1u);
  auto in = open("/v1/discovery/inbound?pod=demo/web-0", web);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status(), 200);
  EXPECT_EQ(next(*in)["pod"], "demo/web-0");
  EXPECT_EQ(stats().openStreams, 2u);
}

TEST_F(ClientAuthServerTest, RefusalsSayWhyAndAreCounted) {
  auto [anonymous, why] = refusal("/v1/discovery/outbound?authority=a.demo:80");
  EXPECT_EQ(anonymous, 401);
  EXPECT_NE(why.find("workload certificate is required"), std::string::npos) << why;
  EXPECT_EQ(refused("no_certificate"), 1u);

  auto [foreign, whyForeign] =
      refusal("/v1/discovery/outbound?authority=a.demo:80", leaf(*foreign_, kWeb));
  EXPECT_EQ(foreign, 401);
  EXPECT_NE(whyForeign.find("mesh trust bundle"), std::string::npos) << whyForeign;
  EXPECT_EQ(refused("invalid_certificate"), 1u);

  auto [someoneElses, whyElse] = refusal("/v1/discovery/inbound?pod=demo/db-0", leaf(*mesh_, kWeb));
  EXPECT_EQ(someoneElses, 403);
  EXPECT_NE(whyElse.find("only the pod's own proxy"), std::string::npos) << whyElse;
  auto [unknown, whyUnknown] = refusal("/v1/discovery/inbound?pod=demo/ghost", leaf(*mesh_, kWeb));
  EXPECT_EQ(unknown, 403);
  EXPECT_EQ(refused("forbidden"), 2u);
  EXPECT_EQ(stats().streamsTotal, 0u);
}

TEST_F(ClientAuthServerTest, CertifyStaysOpenToAnyTlsClient) {
  auto r = weft::testing::runProcess(
      {"/usr/bin/curl", "-sk", "-i", "--max-time", "10", "--data-binary", "{}",
       "https://127.0.0.1:" + std::to_string(server_->port()) + "/v1/identity/certify"});
  EXPECT_NE(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"({"certified":true})"), std::string::npos) << r.out;
}

TEST_F(ClientAuthServerTest, BeforeTheBundleIsLoadedSubscribersComeBackLater) {
  onServer([&] { ASSERT_TRUE(server_->setTrustBundle({}).ok()); });
  auto [status, why] = refusal("/v1/discovery/outbound?authority=a.demo:80", leaf(*mesh_, kWeb));
  EXPECT_EQ(status, 503);
  EXPECT_NE(why.find("not loaded yet"), std::string::npos) << why;
  EXPECT_EQ(refused("unavailable"), 1u);
}

TEST_F(ClientAuthServerTest, TheStreamEndsWhenItsCertificateExpires) {
  publish("a.demo:80", outboundDoc("a.demo:80", 1));
  auto shortLived = leaf(*mesh_, kWeb, std::chrono::milliseconds(1500));
  auto c = open("/v1/discovery/outbound?authority=a.demo:80", shortLived);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->status(), 200);
  next(*c);
  auto start = std::chrono::steady_clock::now();
  // Nothing more arrives: the server closes the stream at notAfter (whole seconds in X.509).
  EXPECT_FALSE(c->nextLine(std::chrono::seconds(4)).has_value());
  EXPECT_TRUE(c->closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3500));
  EXPECT_EQ(stats().openStreams, 0u);
}

}  // namespace
}  // namespace weft::op::discovery
