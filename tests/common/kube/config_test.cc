// Kubeconfig and in-cluster configuration, and the rotating token.
#include "common/kube/config.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/file.h"

namespace weft::kube {
namespace {

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("weft-kube-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name, const std::string& content) const {
    auto p = (path_ / name).string();
    EXPECT_TRUE(writeFileAtomic(p, content).ok());
    return p;
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
- name: prod
  context: {cluster: c2, user: u2}
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EtUEVN
- name: c2
  cluster:
    server: https://prod:443
    certificate-authority: ca.crt
    insecure-skip-tls-verify: true
users:
- name: u1
  user: {token: abc}
- name: u2
  user:
    client-certificate: certs/client.crt
    client-key-data: S0VZ
)";

TEST(KubeconfigTest, CurrentContextWithTokenAndInlineCa) {
  auto config = parseKubeconfig(kKubeconfig, "/nowhere");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->caPem, "CA-PEM");
  EXPECT_EQ(config->token, "abc");
  EXPECT_EQ(config->defaultNamespace, "team");
  EXPECT_FALSE(config->insecureSkipTlsVerify);
}

TEST(KubeconfigTest, NamedContextWithFilesRelativeToTheKubeconfig) {
  TempDir dir;
  dir.file("ca.crt", "FILE-CA");
  std::filesystem::create_directories(dir.path() + "/certs");
  dir.file("certs/client.crt", "CLIENT-CERT");
  std::string path = dir.file("config", kKubeconfig);
  auto config = loadKubeconfig(path, "prod");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://prod:443");
  EXPECT_EQ(config->caPem, "FILE-CA");
  EXPECT_EQ(config->clientCertPem, "CLIENT-CERT");
  EXPECT_EQ(config->clientKeyPem, "KEY");
  EXPECT_TRUE(config->insecureSkipTlsVerify);
  EXPECT_EQ(config->defaultNamespace, "default");
}

TEST(KubeconfigTest, BadKubeconfigsSayWhy) {
  EXPECT_EQ(parseKubeconfig(kKubeconfig, "", "staging").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(parseKubeconfig("current-context: x\n", "").ok());
  EXPECT_FALSE(parseKubeconfig("[1, 2", "").ok());
  auto missingFile = parseKubeconfig(kKubeconfig, "/nonexistent-dir", "prod");
  ASSERT_FALSE(missingFile.ok());
  EXPECT_NE(missingFile.error().message.find("certificate-authority"), std::string::npos);
  auto badBase64 = parseKubeconfig(R"(current-context: a
contexts: [{name: a, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "https://x", certificate-authority-data: "!!"}}]
)",
                                   "");
  EXPECT_FALSE(badBase64.ok());
}

TEST(InClusterTest, ReadsTheServiceAccountFilesAndEnvironment) {
  TempDir dir;
  dir.file("token", "tok-1\n");
  dir.file("ca.crt", "CLUSTER-CA");
  dir.file("namespace", "weft\n");
  InClusterPaths paths{dir.path(), "10.0.0.1", "443"};
  auto config = loadInCluster(paths);
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->token, "tok-1");
  EXPECT_EQ(config->caPem, "CLUSTER-CA");
  EXPECT_EQ(config->defaultNamespace, "weft");
  EXPECT_EQ(config->tokenFile, dir.path() + "/token");

  paths.host = "fd00::1";
  EXPECT_EQ(loadInCluster(paths)->server, "https://[fd00::1]:443");
  EXPECT_FALSE(loadInCluster(InClusterPaths{"/nonexistent", "10.0.0.1", "443"}).ok());
}

TEST(InClusterTest, NotInAClusterWithoutTheEnvironment) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  auto config = loadInCluster(InClusterPaths{"/nonexistent", "", ""});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST(BearerTokenTest, RotatedFileIsPickedUp) {
  TempDir dir;
  KubeConfig config;
  config.tokenFile = dir.file("token", "one\n");
  config.token = "one";
  BearerToken token(config);
  EXPECT_EQ(token.get(), "one");
  dir.file("token", "two-rotated\n");
  EXPECT_EQ(token.get(), "two-rotated");
  std::filesystem::remove(config.tokenFile);
  EXPECT_EQ(token.get(), "two-rotated");  // a missing file keeps the last good token

  KubeConfig fixed;
  fixed.token = "static";
  EXPECT_EQ(BearerToken(fixed).get(), "static");
}

}  // namespace
}  // namespace weft::kube
