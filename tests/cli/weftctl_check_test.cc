// The real weftctl binary checking a fake installation: the fake
// kube-apiserver over HTTPS and the real weft-injector over TLS on loopback.
// One scenario per test: each broken part is reported with its fix.
#include <csignal>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json/json.h"
#include "tests/cli/check_install.h"

namespace weft::testing {
namespace {

using json::Json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr std::chrono::hours kDay{24};

// The line of check `name` in text output ("[ok]   name (...)", "[FAIL] name: ..."),
// and the fix line under it when there is one.
std::string lineOf(const RunResult& r, const std::string& name, std::string* fix = nullptr) {
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 7 && line.compare(7, name.size(), name) == 0 &&
        (line.size() == 7 + name.size() || line[7 + name.size()] == ':' ||
         line[7 + name.size()] == ' ')) {
      std::string next;
      if (fix != nullptr && std::getline(in, next) && next.rfind("       fix: ", 0) == 0) {
        *fix = next.substr(12);
      }
      return line;
    }
  }
  ADD_FAILURE() << "no line for \"" << name << "\" in:\n" << r.out << r.err;
  return "";
}

class WeftctlCheckTest : public ::testing::Test {
 protected:
  CheckInstall install_;
};

TEST_F(WeftctlCheckTest, HealthyInstallPassesEveryCheck) {
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  for (const char* name :
       {"Kubernetes API reachable", "Kubernetes version >= 1.26", "CRD meshes.weft.io",
        "CRD trafficpolicies.weft.io", "CRD trafficroutes.weft.io", "CRD accesspolicies.weft.io",
        "operator Deployment available", "operator leader elected", "injector Deployment available",
        "MutatingWebhookConfiguration weft-injector", "webhook caBundle", "expiry: webhook CA",
        "webhook reachable", "webhook certificate trusted by the caBundle",
        "expiry: injector serving certificate", "expiry: trust bundle roots",
        "expiry: mesh issuer"}) {
    EXPECT_EQ(lineOf(r, name).substr(0, 7), "[ok]   ") << name << "\n" << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr("17 ok, 0 warning(s), 0 failed, 0 skipped"));
  EXPECT_THAT(lineOf(r, "webhook reachable"),
              HasSubstr("127.0.0.1:" + std::to_string(install_.injectorPort())));
  EXPECT_THAT(lineOf(r, "operator leader elected"), HasSubstr("weft-operator-7d9f-abcde"));
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle"),
              HasSubstr("for weft-injector.weft-system.svc"));
  EXPECT_EQ(r.err, "");
}

TEST_F(WeftctlCheckTest, JsonOutputCarriesEveryCheck) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.putDeployment("weft-injector", 2, 1));
  auto r = install_.check({"-o", "json"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  auto doc = json::parse(r.out);
  ASSERT_TRUE(doc.ok()) << r.out;
  EXPECT_EQ((*doc)["ok"], true);
  EXPECT_EQ((*doc)["namespace"], "weft-system");
  EXPECT_EQ((*doc)["summary"]["ok"], 16);
  EXPECT_EQ((*doc)["summary"]["warning"], 1);
  ASSERT_EQ((*doc)["checks"].size(), 17u);
  const Json& injector = (*doc)["checks"][8];
  EXPECT_EQ(injector["name"], "injector Deployment available");
  EXPECT_EQ(injector["status"], "warning");
  EXPECT_THAT(injector["message"].get<std::string>(), HasSubstr("only 1 of 2 replicas ready"));
  EXPECT_THAT(injector["fix"].get<std::string>(), HasSubstr("describe deployment weft-injector"));
}

TEST_F(WeftctlCheckTest, MissingCrdFailsWithTheFix) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.api()
                  .remove({"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                           "CustomResourceDefinition", false},
                          "", "trafficroutes.weft.io")
                  .ok());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  std::string fix;
  EXPECT_THAT(lineOf(r, "CRD trafficroutes.weft.io", &fix),
              HasSubstr("[FAIL] CRD trafficroutes.weft.io: not found"));
  EXPECT_THAT(fix, HasSubstr("kubectl apply --server-side -f crds/"));
  EXPECT_THAT(lineOf(r, "CRD meshes.weft.io"), HasSubstr("[ok]"));
}

TEST_F(WeftctlCheckTest, CrdWithoutThisBuildsVersionFails) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.editCrd("meshes.weft.io", [](Json& crd) {
    crd["spec"]["versions"][0]["name"] = "v1beta1";
    crd["status"]["storedVersions"] = {"v1beta1"};
  }));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "CRD meshes.weft.io"),
              HasSubstr("[FAIL] CRD meshes.weft.io: has no version v1alpha1 (it has: v1beta1)"));
}

TEST_F(WeftctlCheckTest, CrdStoringAnotherVersionFails) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.editCrd("accesspolicies.weft.io", [](Json& crd) {
    Json newer = crd["spec"]["versions"][0];
    newer["name"] = "v1beta1";
    crd["spec"]["versions"][0]["storage"] = false;
    crd["spec"]["versions"].push_back(newer);
  }));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "CRD accesspolicies.weft.io"), HasSubstr("stores v1beta1, not v1alpha1"));
}

TEST_F(WeftctlCheckTest, CrdNotEstablishedFails) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.editCrd("trafficpolicies.weft.io", [](Json& crd) {
    crd["status"]["conditions"] = {{{"type", "NamesAccepted"},
                                    {"status", "False"},
                                    {"reason", "ListKindConflict"},
                                    {"message", "\"TrafficPolicyList\" is already in use"}},
                                   {{"type", "Established"},
                                    {"status", "False"},
                                    {"reason", "NotAccepted"},
                                    {"message", "not all names are accepted"}}};
  }));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "CRD trafficpolicies.weft.io"),
              HasSubstr("not Established (NotAccepted: not all names are accepted; "
                        "NamesAccepted is False: \"TrafficPolicyList\" is already in use)"));
}

TEST_F(WeftctlCheckTest, OperatorNotReadyFails) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.putDeployment("weft-operator", 2, 0));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  std::string fix;
  EXPECT_THAT(lineOf(r, "operator Deployment available", &fix),
              HasSubstr("[FAIL] operator Deployment available: weft-system/weft-operator: 0 of 2 "
                        "replicas ready: Deployment does not have minimum availability."));
  EXPECT_THAT(fix, HasSubstr("kubectl -n weft-system logs deployment/weft-operator"));
}

TEST_F(WeftctlCheckTest, MissingDeploymentAndStaleLeaseFail) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(
      install_.api()
          .remove({"apps", "v1", "deployments", "Deployment", true}, "weft-system", "weft-injector")
          .ok());
  ASSERT_TRUE(install_.putLease("weft-operator-old", std::chrono::system_clock::now() - 10min));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "injector Deployment available"),
              HasSubstr("[FAIL] injector Deployment available: Deployment "
                        "weft-system/weft-injector not found"));
  EXPECT_THAT(lineOf(r, "operator leader elected"),
              HasSubstr("held by weft-operator-old was last renewed 10m ago (lease duration 15s)"));
}

TEST_F(WeftctlCheckTest, StaleCaBundleIsReportedWithTheFix) {
  ASSERT_TRUE(install_.install());
  // The operator rotated the webhook CA but the injector still serves the
  // certificate of the old one.
  auto rotated = makeRootCa("weft-injector-ca", validFor(kDay * 3650));
  ASSERT_TRUE(install_.putWebhook(rotated.certPem));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "webhook caBundle"), HasSubstr("[ok]"));
  EXPECT_THAT(lineOf(r, "webhook reachable"), HasSubstr("[ok]"));
  std::string fix;
  std::string line = lineOf(r, "webhook certificate trusted by the caBundle", &fix);
  EXPECT_THAT(line, HasSubstr("[FAIL] webhook certificate trusted by the caBundle: the API server "
                              "would refuse the injector"));
  EXPECT_THAT(line, HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(fix, HasSubstr("stale caBundle"));
  EXPECT_THAT(fix, HasSubstr("rollout restart deployment/weft-injector"));

  // Old and new CA together (the operator's rotation) verify again.
  ASSERT_TRUE(install_.putWebhook(rotated.certPem + install_.webhookCa.certPem));
  auto both = install_.check();
  EXPECT_EQ(both.exitCode, 0) << both.out;
  EXPECT_THAT(lineOf(both, "webhook caBundle"), HasSubstr("2 CA certificate(s)"));
}

TEST_F(WeftctlCheckTest, ServingCertificateForAnotherNameFails) {
  install_.serving =
      issueServing(install_.webhookCa, {"weft-injector.other.svc"}, validFor(kDay * 90));
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle"),
              HasSubstr("not valid for weft-injector.weft-system.svc (its DNS names: "
                        "weft-injector.other.svc)"));
}

TEST_F(WeftctlCheckTest, EmptyOrBrokenCaBundleFails) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.putWebhook(""));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  std::string fix;
  EXPECT_THAT(lineOf(r, "webhook caBundle", &fix),
              HasSubstr("[FAIL] webhook caBundle: empty: the API server cannot verify"));
  EXPECT_THAT(fix, HasSubstr("weft-injector-ca"));
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle"), HasSubstr("[skip]"));

  // A leaf certificate where a CA belongs.
  ASSERT_TRUE(install_.putWebhook(install_.serving.certPem));
  auto leaf = install_.check();
  EXPECT_EQ(leaf.exitCode, 1);
  EXPECT_THAT(lineOf(leaf, "webhook caBundle"), HasSubstr("is not a CA"));
}

TEST_F(WeftctlCheckTest, CertificateInsideTheWarningWindowWarns) {
  install_.serving =
      issueServing(install_.webhookCa, {CheckInstall::kServiceHost}, validFor(kDay * 3 + 1h));
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 0) << "warnings do not fail\n" << r.out;
  std::string fix;
  EXPECT_THAT(lineOf(r, "expiry: injector serving certificate", &fix),
              HasSubstr("[warn] expiry: injector serving certificate: "
                        "CN=weft-injector.weft-system.svc expires"));
  EXPECT_THAT(lineOf(r, "expiry: injector serving certificate"), HasSubstr("in 3d"));
  EXPECT_THAT(fix, HasSubstr("weft-injector-tls"));

  // A shorter window: the same certificate is fine.
  auto narrow = install_.check({"--expiry-warning", "2d"});
  EXPECT_EQ(narrow.exitCode, 0);
  EXPECT_THAT(lineOf(narrow, "expiry: injector serving certificate"), HasSubstr("[ok]"));
  EXPECT_THAT(narrow.out, HasSubstr("0 warning(s)"));
}

TEST_F(WeftctlCheckTest, ExpiredCertificatesFail) {
  install_.serving =
      issueServing(install_.webhookCa, {CheckInstall::kServiceHost}, validFor(-2 * kDay));
  install_.issuer = issueCa(install_.meshRoot, "weft-mesh-issuer", validFor(-1h));
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "expiry: injector serving certificate"),
              HasSubstr("[FAIL] expiry: injector serving certificate: "
                        "CN=weft-injector.weft-system.svc expired on"));
  EXPECT_THAT(lineOf(r, "expiry: injector serving certificate"), HasSubstr("2d 0h ago"));
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle"), HasSubstr("has expired"));
  std::string fix;
  EXPECT_THAT(lineOf(r, "expiry: mesh issuer", &fix),
              HasSubstr("[FAIL] expiry: mesh issuer: CN=weft-mesh-issuer expired on"));
  EXPECT_THAT(fix, HasSubstr("weft-identity-issuer"));
}

TEST_F(WeftctlCheckTest, ExpiredWebhookCaAndExpiringRootAreReported) {
  install_.webhookCa = makeRootCa("weft-injector-ca", validFor(-1h));
  install_.serving = issueServing(install_.webhookCa, {CheckInstall::kServiceHost}, validFor(-1h));
  install_.meshRoot = makeRootCa("weft-mesh-root", validFor(kDay * 5));
  install_.issuer = issueCa(install_.meshRoot, "weft-mesh-issuer", validFor(kDay * 4));
  ASSERT_TRUE(install_.install());
  auto r = install_.check({"--expiry-warning", "30d"});
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "webhook caBundle"),
              HasSubstr("[FAIL] webhook caBundle: certificate 1 (CN=weft-injector-ca) expired on"));
  EXPECT_THAT(lineOf(r, "expiry: trust bundle roots"),
              HasSubstr("[warn] expiry: trust bundle roots: CN=weft-mesh-root expires"));
  EXPECT_THAT(lineOf(r, "expiry: mesh issuer"), HasSubstr("[warn]"));
}

TEST_F(WeftctlCheckTest, IssuerOutsideTheTrustBundleFails) {
  auto otherRoot = makeRootCa("someone-else", validFor(kDay * 3650));
  install_.issuer = issueCa(otherRoot, "weft-mesh-issuer", validFor(kDay * 365));
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  EXPECT_THAT(lineOf(r, "expiry: mesh issuer"), HasSubstr("does not chain to the trust bundle"));
}

TEST_F(WeftctlCheckTest, OperatorWithoutPublishedIssuerWarns) {
  ASSERT_TRUE(install_.install());
  ASSERT_TRUE(install_.putTrustBundle(install_.meshRoot.certPem, ""));
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 0) << r.out;
  EXPECT_THAT(lineOf(r, "expiry: mesh issuer"),
              HasSubstr("[warn] expiry: mesh issuer: ConfigMap weft-system/weft-trust-bundle has "
                        "no issuer.crt"));
}

TEST_F(WeftctlCheckTest, ClusterIpOutOfReachFallsBackToTheServiceProxy) {
  // 127.0.0.2 refuses: what a cluster IP looks like from outside the cluster.
  install_.clusterIp = "127.0.0.2";
  ASSERT_TRUE(install_.install());
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 0) << r.out;
  EXPECT_THAT(lineOf(r, "webhook reachable"),
              HasSubstr("[ok]   webhook reachable (through the API server's service proxy; "
                        "directly: connecting to 127.0.0.2:"));
  std::string fix;
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle", &fix),
              HasSubstr("[warn] webhook certificate trusted by the caBundle: not checked"));
  EXPECT_THAT(fix, HasSubstr("port-forward service/weft-injector"));
  EXPECT_THAT(lineOf(r, "expiry: injector serving certificate"), HasSubstr("[skip]"));
  EXPECT_EQ(install_.server().state().requestCount(
                "GET", "/api/v1/namespaces/weft-system/services/https:weft-injector:" +
                           std::to_string(install_.injectorPort()) + "/proxy/healthz"),
            1u);

  // The port-forward the fix suggests: --webhook-address checks the caBundle again.
  auto direct =
      install_.check({"--webhook-address", "127.0.0.1:" + std::to_string(install_.injectorPort())});
  EXPECT_EQ(direct.exitCode, 0) << direct.out;
  EXPECT_THAT(lineOf(direct, "webhook certificate trusted by the caBundle"), HasSubstr("[ok]"));
}

TEST_F(WeftctlCheckTest, SomethingSilentAtTheClusterIpFailsWithoutDetour) {
  install_.clusterIp = "127.0.0.3";
  ASSERT_TRUE(install_.install());
  // Accepts (in the kernel's backlog) but never speaks TLS.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(0x7f000003);
  addr.sin_port = htons(install_.injectorPort());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  auto r = install_.check({"--timeout", "2s"});
  ::close(fd);
  EXPECT_EQ(r.exitCode, 1) << r.out;
  std::string where = "127.0.0.3:" + std::to_string(install_.injectorPort());
  EXPECT_THAT(
      lineOf(r, "webhook reachable"),
      HasSubstr("[FAIL] webhook reachable: " + where +
                " accepted the connection, then: TLS handshake with " + where + ": timed out"));
  EXPECT_EQ(install_.server().state().requestCount(
                "GET", "/api/v1/namespaces/weft-system/services/https:"),
            0u)
      << "the service proxy would hide a broken endpoint";
}

TEST_F(WeftctlCheckTest, InjectorDownFailsBothWays) {
  install_.clusterIp = "127.0.0.2";
  ASSERT_TRUE(install_.install());
  install_.stopInjector();
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1) << r.out;
  std::string fix;
  std::string line = lineOf(r, "webhook reachable", &fix);
  EXPECT_THAT(line, HasSubstr("[FAIL] webhook reachable: not directly (connecting to 127.0.0.2"));
  EXPECT_THAT(line, HasSubstr("nor through the API server's service proxy (ServiceUnavailable "
                              "(503): error trying to reach service: dial tcp 127.0.0.1:"));
  EXPECT_THAT(fix, HasSubstr("kubectl -n weft-system get endpoints weft-injector"));
  EXPECT_THAT(lineOf(r, "webhook certificate trusted by the caBundle"), HasSubstr("[skip]"));
}

TEST_F(WeftctlCheckTest, ApiServerDownIsOneClearFailure) {
  // A port nothing listens on: refused at once.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  TempDir dir;
  writeFileAtomically(dir.file("kubeconfig"),
                      "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n"
                      "  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: \"" +
                          url + "\"}\n");
  auto started = std::chrono::steady_clock::now();
  auto r = runProcess({WEFTCTL_BIN, "check", "--kubeconfig", dir.file("kubeconfig")});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  std::string fix;
  EXPECT_THAT(lineOf(r, "Kubernetes API reachable", &fix),
              HasSubstr("[FAIL] Kubernetes API reachable: GET " + url + "/version"));
  EXPECT_THAT(fix, HasSubstr("check that the API server at " + url + " is up"));
  EXPECT_THAT(r.out, HasSubstr("0 ok, 0 warning(s), 1 failed, 0 skipped"));

  // Listening but never answering: the timeout ends it.
  ASSERT_EQ(::listen(fd, 8), 0);
  // libcpprest 2.10 leaks a continuation of a timed-out request; not ours, and
  // it would turn the sanitizer build's exit code.
  ::setenv("LSAN_OPTIONS", "detect_leaks=0", 1);
  started = std::chrono::steady_clock::now();
  auto silent =
      runProcess({WEFTCTL_BIN, "check", "--kubeconfig", dir.file("kubeconfig"), "--timeout", "2s"});
  auto took = std::chrono::steady_clock::now() - started;
  ::unsetenv("LSAN_OPTIONS");
  ::close(fd);
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 6s);
  EXPECT_EQ(silent.exitCode, 1) << silent.out;
  EXPECT_THAT(lineOf(silent, "Kubernetes API reachable"), HasSubstr("no answer within 2s"));
}

TEST_F(WeftctlCheckTest, RejectedCredentialsAndMissingRightsSayWhy) {
  ASSERT_TRUE(install_.install());
  install_.server().state().injectError("/apis/apiextensions.k8s.io", 403);
  auto forbidden = install_.check();
  EXPECT_EQ(forbidden.exitCode, 1);
  std::string fix;
  EXPECT_THAT(lineOf(forbidden, "CRD meshes.weft.io", &fix),
              HasSubstr("cannot read it: Forbidden (403)"));
  EXPECT_THAT(fix, HasSubstr("docs/weftctl.md#rbac"));

  install_.server().state().setRequiredToken("another-token");
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(lineOf(r, "Kubernetes API reachable", &fix), HasSubstr("Unauthorized (401)"));
  EXPECT_THAT(fix, HasSubstr("refused the credentials of kubeconfig"));
}

TEST_F(WeftctlCheckTest, OldKubernetesFails) {
  ASSERT_TRUE(install_.install());
  install_.server().state().setServerVersion("v1.25.9-eks-1");
  auto r = install_.check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(lineOf(r, "Kubernetes version >= 1.26"),
              HasSubstr("the cluster runs v1.25.9-eks-1, older than 1.26"));
}

TEST_F(WeftctlCheckTest, WrongNamespaceIsNamedInTheFix) {
  ASSERT_TRUE(install_.install());
  auto r = install_.check({"--namespace", "elsewhere"});
  EXPECT_EQ(r.exitCode, 1);
  std::string fix;
  EXPECT_THAT(lineOf(r, "MutatingWebhookConfiguration weft-injector", &fix),
              HasSubstr("calls Service weft-system/weft-injector, not Service "
                        "elsewhere/weft-injector"));
  EXPECT_THAT(fix, HasSubstr("pass --namespace weft-system"));
}

TEST_F(WeftctlCheckTest, BadFlagsExitTwoWithOneLine) {
  for (const auto& [flag, value, says] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--expiry-warning", "7x", "--expiry-warning"},
           {"--expiry-warning", "-1d", "--expiry-warning"},
           {"--output", "yaml", "--output \"yaml\": text or json"},
           {"--timeout", "0s", "--timeout"},
           {"--webhook-address", "nohost", "--webhook-address"}}) {
    auto r = install_.check({flag, value});
    EXPECT_EQ(r.exitCode, 2) << flag << " " << value << "\n" << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, HasSubstr(says));
  }
}

}  // namespace
}  // namespace weft::testing
