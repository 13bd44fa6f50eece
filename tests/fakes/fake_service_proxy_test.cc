// services/proxy in the fake kube-apiserver, as kube-apiserver resolves it:
// Service port number -> port name -> an Endpoints address, then the request
// forwarded over HTTPS (unverified) or HTTP; 404/503 Status bodies otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/http/server.h"
#include "common/kube/http_kube_api.h"
#include "common/kube/kube_error.h"
#include "tests/common/http/test_tls.h"
#include "tests/fakes/fake_apiserver.h"

namespace weft::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
namespace res = kube::resources;

class FakeServiceProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = FakeApiServer::start();
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    kube::KubeConfig config;
    config.server = server_->url();
    auto api = kube::HttpKubeApi::create(config);
    ASSERT_TRUE(api.ok());
    api_ = std::move(*api);
  }

  std::uint16_t startBackend(bool tls) {
    http::ServerOptions options;
    if (tls) {
      auto cert = makeSelfSignedCert("backend");
      writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
      writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
      options.certFile = dir_.file("tls.crt");
      options.keyFile = dir_.file("tls.key");
    }
    auto backend = http::Server::start(options, [](const http::Request& r) {
      return http::Response::text(r.path == "/healthz" ? 200 : 404, "saw " + r.target + "\n");
    });
    EXPECT_TRUE(backend.ok());
    backend_ = std::move(*backend);
    return backend_->port();
  }

  void service(std::uint16_t port, std::uint16_t endpointPort) {
    Json svc = {{"metadata", {{"name", "web"}}},
                {"spec",
                 {{"clusterIP", "10.96.0.10"},
                  {"ports", {{{"name", "https"}, {"port", port}, {"targetPort", 8443}}}}}}};
    ASSERT_TRUE(api_->create(res::services(), "demo", svc).ok());
    Json eps = {{"metadata", {{"name", "web"}}},
                {"subsets",
                 {{{"addresses", {{{"ip", "127.0.0.1"}}}},
                   {"ports", {{{"name", "https"}, {"port", endpointPort}}}}}}}};
    ASSERT_TRUE(api_->create({"", "v1", "endpoints", "Endpoints", true}, "demo", eps).ok());
  }

  TempDir dir_;
  std::unique_ptr<http::Server> backend_;
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<kube::HttpKubeApi> api_;
};

TEST_F(FakeServiceProxyTest, ForwardsToTheEndpointOfTheServicePort) {
  std::uint16_t port = startBackend(true);
  service(443, port);
  auto body = api_->getRaw("/api/v1/namespaces/demo/services/https:web:443/proxy/healthz?x=1");
  ASSERT_TRUE(body.ok()) << body.error().describe();
  EXPECT_EQ(*body, "saw /healthz?x=1\n");
  // The backend's own status comes back as is.
  auto missing = api_->getRaw("/api/v1/namespaces/demo/services/https:web:443/proxy/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(kube::kubeErrorOf(missing.error()).code, 404);
  EXPECT_EQ(server_->state().requestCount("GET", "/api/v1/namespaces/demo/services/https:web"), 2u);
}

TEST_F(FakeServiceProxyTest, PlainHttpByDefaultAndPortNames) {
  std::uint16_t port = startBackend(false);
  service(80, port);
  auto byName = api_->getRaw("/api/v1/namespaces/demo/services/web:https/proxy/healthz");
  ASSERT_TRUE(byName.ok()) << byName.error().describe();
  EXPECT_EQ(*byName, "saw /healthz\n");
}

TEST_F(FakeServiceProxyTest, StatusBodiesWhenThereIsNowhereToGo) {
  auto noService = api_->getRaw("/api/v1/namespaces/demo/services/https:web:443/proxy/");
  ASSERT_FALSE(noService.ok());
  EXPECT_EQ(noService.error().message, "NotFound (404): services \"web\" not found");

  service(443, 1);  // port 1: nothing listens
  auto wrongPort = api_->getRaw("/api/v1/namespaces/demo/services/https:web:444/proxy/");
  ASSERT_FALSE(wrongPort.ok());
  EXPECT_THAT(wrongPort.error().message,
              HasSubstr("ServiceUnavailable (503): no service port 444 found for service \"web\""));
  auto refused = api_->getRaw("/api/v1/namespaces/demo/services/https:web:443/proxy/healthz");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message,
              HasSubstr("error trying to reach service: dial tcp 127.0.0.1:1: Connection refused"));

  server_->state().injectError("/api/v1/namespaces/demo/services", 403);
  auto forbidden = api_->getRaw("/api/v1/namespaces/demo/services/https:web:443/proxy/healthz");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace weft::testing
