// weftctl check reads what the real weft-operator writes: its webhook CA and
// caBundle, the injector's serving certificate (served by the real
// weft-injector from the operator's Secret), the trust bundle and issuer.crt,
// and its leader Lease, all in the fake kube-apiserver.
#include <csignal>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/json/json.h"
#include "common/kube/kube_error.h"
#include "common/strings.h"
#include "tests/cli/check_install.h"

namespace weft::testing {
namespace {

using ::testing::HasSubstr;
namespace res = kube::resources;

std::string secretField(kube::KubeApi& api, const std::string& name, const std::string& key) {
  auto s = api.get(res::secrets(), CheckInstall::kNamespace, name);
  auto v = s ? json::getStringOr(*s, "/data/" + key, "") : Result<std::string>(s.error());
  auto d = v ? base64Decode(*v) : Result<std::string>(v.error());
  return d.valueOr("");
}

TEST(WeftctlCheckOperatorTest, WhatTheRealOperatorWritesPasses) {
  CheckInstall install;
  ASSERT_TRUE(install.putCrds());
  ASSERT_TRUE(install.putDeployment("weft-operator", 1, 1));
  ASSERT_TRUE(install.putDeployment("weft-injector", 1, 1));
  ASSERT_TRUE(install.putWebhook("", 443));  // the chart's: no caBundle yet

  TempDir dir;
  Child op({WEFT_OPERATOR_BIN, "--source", "kube", "--kubeconfig", install.kubeconfig(),
            "--namespace", CheckInstall::kNamespace, "--leader-identity", "op-0",
            "--discovery-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
           dir.file("operator.log"));
  auto& api = install.api();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto written = [&] {
    auto hook = api.get(res::mutatingWebhookConfigurations(), "", "weft-injector");
    auto cm = api.get(res::configMaps(), CheckInstall::kNamespace, "weft-trust-bundle");
    return hook &&
           !json::getStringOr(*hook, "/webhooks/0/clientConfig/caBundle", "").valueOr("").empty() &&
           cm && !json::getStringOr(*cm, "/data/issuer.crt", "").valueOr("").empty() &&
           !secretField(api, "weft-injector-tls", "tls.crt").empty() &&
           api.get(res::leases(), CheckInstall::kNamespace, "weft-operator").ok();
  };
  while (!written() && op.running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling a process
  }
  ASSERT_TRUE(written()) << readFile(dir.file("operator.log")).valueOr("");

  TestIdentity serving;
  serving.certPem = secretField(api, "weft-injector-tls", "tls.crt");
  serving.keyPem = secretField(api, "weft-injector-tls", "tls.key");
  ASSERT_TRUE(install.startInjector(serving));
  // Outside a cluster: the port-forward way to reach the injector.
  auto r =
      install.check({"--webhook-address", "127.0.0.1:" + std::to_string(install.injectorPort())});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("17 ok, 0 warning(s), 0 failed, 0 skipped"));
  EXPECT_THAT(r.out, HasSubstr("[ok]   operator leader elected (op-0)"));
  EXPECT_THAT(r.out, HasSubstr("[ok]   webhook certificate trusted by the caBundle "
                               "(CN=weft-injector.weft-system.svc"));
  EXPECT_EQ(op.stop(SIGTERM), 0) << readFile(dir.file("operator.log")).valueOr("");
}

}  // namespace
}  // namespace weft::testing
