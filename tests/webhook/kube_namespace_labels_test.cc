// KubeNamespaceLabels against the fake API server over HTTPS: the first list,
// label changes through the watch, namespaces not seen yet, API failures, and
// a pod opted in by its namespace's label through the whole Mutator.
#include "webhook/src/admission/kube_namespace_labels.h"

#include <gtest/gtest.h>

#include "common/kube/resource.h"
#include "tests/common/kube/kube_test_env.h"
#include "webhook/src/inject/inject.h"

namespace weft::webhook::admission {
namespace {

using kube::Json;
using kube::resources::namespaces;

class KubeNamespaceLabelsTest : public kube::testing::KubeTestEnv {
 protected:
  void createNamespace(const std::string& name, const Json& labels) {
    Json ns = named(name);
    if (!labels.is_null()) {
      ns["metadata"]["labels"] = labels;
    }
    auto created = api_->create(namespaces(), "", ns);
    ASSERT_TRUE(created.ok()) << created.error().describe();
  }
  static std::string label(KubeNamespaceLabels& labels, const std::string& ns) {
    auto l = labels.labels(ns);
    if (!l.ok()) {
      return "<error>";
    }
    auto it = l->find("weft.io/inject");
    return it == l->end() ? "" : it->second;
  }
};

TEST_F(KubeNamespaceLabelsTest, FollowsNamespacesAndTheirLabels) {
  createNamespace("meshed", Json{{"weft.io/inject", "enabled"}});
  createNamespace("plain", Json());
  KubeNamespaceLabels labels(*api_);
  ASSERT_TRUE(waitFor([&] { return labels.synced(); }));
  EXPECT_EQ(label(labels, "meshed"), "enabled");
  EXPECT_EQ(label(labels, "plain"), "");
  EXPECT_EQ(label(labels, "absent"), "");  // 404: no labels, not an error

  // A label added later arrives through the watch.
  auto plain = api_->get(namespaces(), "", "plain");
  ASSERT_TRUE(plain.ok());
  (*plain)["metadata"]["labels"] = {{"weft.io/inject", "enabled"}};
  ASSERT_TRUE(api_->update(namespaces(), *plain).ok());
  EXPECT_TRUE(waitFor([&] { return label(labels, "plain") == "enabled"; }));

  // The cache answers without calling the API server.
  auto before = server_->state().requestCount("GET", "/api/v1/namespaces/meshed");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(label(labels, "meshed"), "enabled");
  }
  EXPECT_EQ(server_->state().requestCount("GET", "/api/v1/namespaces/meshed"), before);
}

TEST_F(KubeNamespaceLabelsTest, UnknownNamespaceLookupFailureIsAnError) {
  KubeNamespaceLabels labels(*api_);
  ASSERT_TRUE(waitFor([&] { return labels.synced(); }));
  server_->state().injectError("/api/v1/namespaces/broken", 500);
  auto l = labels.labels("broken");
  EXPECT_FALSE(l.ok());
}

TEST_F(KubeNamespaceLabelsTest, MutatorInjectsPodsOfLabelledNamespace) {
  createNamespace("meshed", Json{{"weft.io/inject", "enabled"}});
  KubeNamespaceLabels labels(*api_);
  Mutator mutator(inject::defaultOptions(), labels);
  Json review = Json::parse(R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {"uid": "u1", "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "meshed", "operation": "CREATE",
                "object": {"metadata": {"name": "p"},
                           "spec": {"containers": [{"name": "a", "image": "a"}]}}}})");
  EXPECT_EQ(mutator.review(review.dump()).result, "injected");
  review["request"]["namespace"] = "elsewhere";
  EXPECT_EQ(mutator.review(review.dump()).result, "skipped");
}

}  // namespace
}  // namespace weft::webhook::admission
