// Where weftctl finds the cluster: --kubeconfig, $KUBECONFIG (first existing
// file), ~/.kube/config, then the pod's service account.
#include "cli/src/kube_context.h"

#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/common/http/test_tls.h"

namespace weft::cli {
namespace {

using ::testing::HasSubstr;

std::string kubeconfigFor(const std::string& server) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n"
         "  context: {cluster: k}\nclusters:\n- name: k\n  cluster: {server: \"" +
         server + "\"}\n";
}

class KubeContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("KUBECONFIG");
    ::unsetenv("KUBERNETES_SERVICE_HOST");
    ::unsetenv("KUBERNETES_SERVICE_PORT");
    ::setenv("HOME", dir_.path().c_str(), 1);
    testing::writeFileAtomically(dir_.file("a.yaml"), kubeconfigFor("https://a:6443"));
    testing::writeFileAtomically(dir_.file("b.yaml"), kubeconfigFor("https://b:6443"));
  }
  testing::TempDir dir_;
};

TEST_F(KubeContextTest, FlagThenEnvironmentThenHome) {
  ::setenv("KUBECONFIG", (dir_.file("missing.yaml") + ":" + dir_.file("b.yaml")).c_str(), 1);
  auto flag = resolveKubeContext(dir_.file("a.yaml"));
  ASSERT_TRUE(flag.ok()) << flag.error().describe();
  EXPECT_EQ(flag->config.server, "https://a:6443");
  EXPECT_EQ(flag->source, "kubeconfig " + dir_.file("a.yaml"));

  auto env = resolveKubeContext("");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->config.server, "https://b:6443") << "the first file of the list that exists";

  ::unsetenv("KUBECONFIG");
  std::filesystem::create_directories(dir_.file(".kube"));
  testing::writeFileAtomically(dir_.file(".kube/config"), kubeconfigFor("https://home:6443"));
  auto home = resolveKubeContext("");
  ASSERT_TRUE(home.ok());
  EXPECT_EQ(home->config.server, "https://home:6443");
}

TEST_F(KubeContextTest, NamedButMissingIsAnErrorNeverSkipped) {
  EXPECT_FALSE(resolveKubeContext(dir_.file("missing.yaml")).ok());
  ::setenv("KUBECONFIG", dir_.file("missing.yaml").c_str(), 1);
  auto env = resolveKubeContext("");
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.error().message, HasSubstr("none of its files exists"));
}

TEST_F(KubeContextTest, NothingAtAllSaysWhereItLooked) {
  auto none = resolveKubeContext("");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message,
              HasSubstr("no --kubeconfig, $KUBECONFIG or ~/.kube/config, and not in a cluster"));
}

}  // namespace
}  // namespace weft::cli
