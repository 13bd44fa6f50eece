// weftctl stat against real weft-proxy admin endpoints: two proxies speak
// mTLS (certified by a fake control plane's CA), a plaintext client calls the
// server proxy directly, and the table shows each workload's window.
#include <cstdlib>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fakes/fake_control_plane.h"
#include "tests/integration/proxy_harness.h"

namespace weft::testing {
namespace {

constexpr const char* kAuthority = "backend.demo.svc.cluster.local:8080";
constexpr const char* kBackendId = "spiffe://cluster.local/ns/demo/sa/backend";

// The row of `name` in the last table of `out`, split into cells.
std::vector<std::string> lastRow(const std::string& out, const std::string& name) {
  std::vector<std::string> cells;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> row{std::istream_iterator<std::string>(words), {}};
    if (!row.empty() && row[0] == name) {
      cells = row;
    }
  }
  return cells;
}

// The first table's window, from its header "(last 2.0s)".
double firstWindow(const std::string& out) {
  auto at = out.find("(last ");
  return at == std::string::npos ? 0 : std::atof(out.c_str() + at + 6);
}

class StatProxyTest : public ::testing::Test {
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
    cp_->setDocument("inbound:demo/backend-0",
                     std::string(R"({"kind":"Inbound","version":"1","pod":"demo/backend-0",)") +
                         R"("identity":")" + kBackendId +
                         R"(","mtls":"PERMISSIVE","ports":[{"port":)" +
                         std::to_string(backend_->port()) +
                         R"(,"protocol":"http"}],"authorization":{"rules":[]}})");
    server_ = startProxy("backend-0", "backend");
    client_ = startProxy("frontend-0", "frontend");
    ASSERT_TRUE(waitFor([&] { return ready(*server_) && ready(*client_); }, 10s))
        << server_->log() << client_->log();
    cp_->setDocument(kAuthority, std::string(R"({"kind":"Outbound","version":"1","authority":")") +
                                     kAuthority + R"(","backends":{")" + kAuthority +
                                     R"(":{"endpoints":[{"address":"127.0.0.1:)" +
                                     std::to_string(server_->ports().inbound) +
                                     R"(","meshed":true,"identity":")" + kBackendId + R"("}]}}})");
    ASSERT_TRUE(waitFor(
        [&] {
          auto c = get(server_->ports().admin, "admin", "/config", 1s);
          return c && c->body.find("demo/backend-0") != std::string::npos;
        },
        10s));
    // One request through the mesh, so that both proxies know the destination before the window.
    ASSERT_TRUE(waitFor(
        [&] {
          auto r = get(client_->ports().outbound, kAuthority, "/warmup", 2s);
          return r && r->status == 200;
        },
        10s))
        << client_->log();
  }

  std::unique_ptr<Proxy> startProxy(const std::string& name, const std::string& sa) {
    ::setenv("POD_NAMESPACE", "demo", 1);
    ::setenv("POD_NAME", name.c_str(), 1);
    ::setenv("SERVICE_ACCOUNT", sa.c_str(), 1);
    auto p = std::make_unique<Proxy>(
        dir_, "",
        std::vector<std::string>{"--control-plane", cp_->address(), "--control-plane-ca",
                                 cp_->servingCaFile(), "--identity-token-file",
                                 dir_.file(sa + "-token"), "--inbound-app-port",
                                 std::to_string(backend_->port()), "--workers", "1"});
    ::unsetenv("POD_NAME");
    return p;
  }

  static bool ready(const Proxy& p) {
    auto r = get(p.ports().admin, "admin", "/ready", 1s);
    return r && r->status == 200;
  }

  TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Proxy> server_;
  std::unique_ptr<Proxy> client_;
};

TEST_F(StatProxyTest, ShowsRatesSuccessLatencyAndTheMtlsShareOfTheWindow) {
  const std::string admin = "127.0.0.1:";
  RunResult stat;
  std::thread watcher([&] {
    stat = runProcess({WEFTCTL_BIN, "stat", "--proxy",
                       "backend=" + admin + std::to_string(server_->ports().admin), "--proxy",
                       "frontend=" + admin + std::to_string(client_->ports().admin), "--proxy",
                       "ghost=127.0.0.1:1", "--watch", "3s", "--count", "2"},
                      "", 20s);
  });
  // After the baseline scrape, well inside the first 3 s window: 20 requests
  // through the mesh (mTLS), 5 of them answered 500, and 10 plaintext ones
  // straight to the server proxy's inbound port.
  std::this_thread::sleep_for(700ms);
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = get(client_->ports().outbound, kAuthority, i < 5 ? "/status/500" : "/hello", 2s);
    ok += r && r->status == (i < 5 ? 500 : 200) ? 1 : 0;
  }
  for (int i = 0; i < 10; ++i) {
    auto r = get(server_->ports().inbound, kAuthority, "/plain", 2s);
    ok += r && r->status == 200 ? 1 : 0;
  }
  watcher.join();
  ASSERT_EQ(ok, 30) << server_->log();
  ASSERT_EQ(stat.exitCode, 0) << stat.err;
  const double window = firstWindow(stat.out);
  ASSERT_NEAR(window, 3.0, 0.5) << stat.out;

  // The first table: the window with the traffic.
  std::string first = stat.out.substr(0, stat.out.find("\n\n"));
  auto backend = lastRow(first, "backend");
  ASSERT_EQ(backend.size(), 10u) << stat.out;
  EXPECT_EQ(backend[1], "up");
  EXPECT_NEAR(std::atof(backend[2].c_str()) * window, 30, 0.5) << stat.out;  // requests/s
  EXPECT_EQ(backend[3], "83.3%") << stat.out;                                // 25 of 30 not 5xx
  EXPECT_NE(backend[4], "-");                                                // p50
  EXPECT_NE(backend[5], "-");                                                // p99
  EXPECT_EQ(backend[6], "67%") << stat.out;  // 20 of 30 inbound came with a peer identity
  auto frontend = lastRow(first, "frontend");
  ASSERT_EQ(frontend.size(), 10u) << stat.out;
  EXPECT_EQ(frontend[2], "0.0") << "frontend served nothing";
  EXPECT_EQ(frontend[3], "-");
  EXPECT_NEAR(std::atof(frontend[7].c_str()) * window, 20, 0.5) << stat.out;  // out requests/s
  EXPECT_EQ(frontend[8], "75.0%") << stat.out;
  EXPECT_NE(frontend[9], "-");
  EXPECT_NE(first.find("ghost (127.0.0.1:1): connection refused"), std::string::npos) << first;

  // The second table: a quiet window, so rates are back to zero (deltas, not totals).
  auto quiet = lastRow(stat.out, "backend");
  ASSERT_EQ(quiet.size(), 10u) << stat.out;
  EXPECT_EQ(quiet[2], "0.0") << stat.out;
  EXPECT_EQ(quiet[3], "-");
  EXPECT_EQ(quiet[6], "-");
}

// weftctl proxy-config shares the fixture: a real proxy's /config, pretty-printed.
TEST_F(StatProxyTest, ProxyConfigPrintsTheProxysConfigAndRefusesBadTargets) {
  auto shown = runProcess(
      {WEFTCTL_BIN, "proxy-config", "127.0.0.1:" + std::to_string(server_->ports().admin)}, "",
      10s);
  ASSERT_EQ(shown.exitCode, 0) << shown.err;
  EXPECT_NE(shown.out.find("demo/backend-0"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find(kBackendId), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\n  \""), std::string::npos) << "indented JSON: " << shown.out;

  auto down = runProcess({WEFTCTL_BIN, "proxy-config", "127.0.0.1:1", "--timeout", "1s"}, "", 10s);
  EXPECT_EQ(down.exitCode, 1);
  EXPECT_NE(down.err.find("127.0.0.1:1"), std::string::npos) << down.err;

  for (const char* bad : {"demo/", "/pod", "a/b/c", "no-port"}) {
    auto r = runProcess({WEFTCTL_BIN, "proxy-config", bad}, "", 10s);
    EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("expected NAMESPACE/POD or HOST:PORT"), std::string::npos) << r.err;
  }

  // NAMESPACE/POD goes through the API server: with none reachable, a clear error.
  dir_.write("kubeconfig",
             "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
             "    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n"
             "    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n"
             "  user:\n    token: t\n");
  auto viaApi = runProcess({WEFTCTL_BIN, "proxy-config", "demo/backend-0", "--kubeconfig",
                            dir_.path() + "/kubeconfig", "--timeout", "1s"},
                           "", 20s);
  EXPECT_EQ(viaApi.exitCode, 1) << viaApi.out;
  EXPECT_NE(viaApi.err.find("demo/backend-0"), std::string::npos) << viaApi.err;
}

}  // namespace
}  // namespace weft::testing
