// admission/: every recorded AdmissionReview through the Mutator; returned
// patches applied with nlohmann's JSON Patch and the resulting pods checked.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/json/json.h"
#include "tests/webhook/base64_decode.h"
#include "webhook/src/admission/review.h"

namespace weft::webhook::admission {
namespace {

using json::Json;
using ::testing::HasSubstr;
using weft::testing::base64Decode;

class FakeNamespaceLabels : public NamespaceLabels {
 public:
  std::map<std::string, std::map<std::string, std::string>> table;
  bool fail = false;
  int calls = 0;
  Result<std::map<std::string, std::string>> labels(const std::string& ns) override {
    ++calls;
    if (fail) {
      return makeError(ErrorCode::kUnavailable, "apiserver unreachable");
    }
    return table.count(ns) ? table[ns] : std::map<std::string, std::string>{};
  }
};

class FakeTrustBundle : public TrustBundle {
 public:
  std::optional<std::string> pem;
  std::optional<std::string> current() const override { return pem; }
  std::string source() const override { return "ConfigMap weft-system/weft-trust-bundle"; }
};

std::string fixtureDir() {
  if (const char* env = std::getenv("WEFT_K8S_FIXTURES")) {
    return env;
  }
  return WEFT_WEBHOOK_FIXTURES;
}

Json loadFixture(const std::string& name) {
  auto text = readFile(fixtureDir() + "/" + name);
  EXPECT_TRUE(text.ok()) << name;
  auto parsed = json::parse(text.ok() ? *text : "{}");
  EXPECT_TRUE(parsed.ok()) << name;
  return parsed.ok() ? *parsed : Json::object();
}

struct Answer {
  int httpStatus = 0;
  std::string result;
  Json response;  // the AdmissionReview's response
};

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    labels_.table["fixtures"] = {{"weft.io/inject", "enabled"}};
    options_ = inject::defaultOptions();
    options_.nativeSidecar = true;
  }

  Answer send(const Json& review, const TrustBundle* bundle = nullptr) {
    Mutator mutator(options_, labels_, bundle);
    Reply reply = mutator.review(json::dump(review));
    Answer a{reply.httpStatus, reply.result, Json()};
    if (reply.httpStatus == 200) {
      auto parsed = json::parse(reply.body);
      EXPECT_TRUE(parsed.ok()) << reply.body;
      if (parsed.ok()) {
        EXPECT_EQ((*parsed)["apiVersion"], "admission.k8s.io/v1");
        EXPECT_EQ((*parsed)["kind"], "AdmissionReview");
        a.response = (*parsed)["response"];
        EXPECT_EQ(a.response["uid"], review["request"]["uid"]);
      }
    }
    return a;
  }

  // Applies the answer's patch to the request's pod with nlohmann's JSON Patch.
  Json patched(const Json& review, const Answer& a) {
    Json pod = review["request"]["object"];
    if (!a.response.contains("patch")) {
      return pod;
    }
    EXPECT_EQ(a.response["patchType"], "JSONPatch");
    auto patch = json::parse(base64Decode(a.response["patch"].get<std::string>()));
    EXPECT_TRUE(patch.ok());
    try {
      return pod.patch(*patch);
    } catch (const Json::exception& e) {
      ADD_FAILURE() << "patch does not apply: " << e.what();
      return pod;
    }
  }

  FakeNamespaceLabels labels_;
  inject::Options options_;
};

const Json* findNamed(const Json& list, const std::string& name) {
  for (const auto& item : list) {
    if (item["name"] == name) {
      return &item;
    }
  }
  return nullptr;
}

// Checks an injected pod field by field against the pod it came from.
void expectInjected(const Json& before, const Json& after, bool native) {
  const Json& spec = after["spec"];
  // Everything the pod had is still there, unchanged.
  for (const auto& c : before["spec"]["containers"]) {
    const Json* kept = findNamed(spec["containers"], c["name"].get<std::string>());
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(*kept, c);
  }
  for (const auto& v : before["spec"]["volumes"]) {
    const Json* kept = findNamed(spec["volumes"], v["name"].get<std::string>());
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(*kept, v);
  }
  if (before["metadata"].contains("annotations")) {
    for (const auto& [key, value] : before["metadata"]["annotations"].items()) {
      EXPECT_EQ(after["metadata"]["annotations"][key], value) << key;
    }
  }
  EXPECT_EQ(after["metadata"].value("labels", Json()), before["metadata"].value("labels", Json()));
  EXPECT_EQ(after["spec"]["tolerations"], before["spec"]["tolerations"]);
  EXPECT_EQ(after["spec"]["serviceAccountName"], before["spec"]["serviceAccountName"]);
  // Our parts.
  EXPECT_EQ(after["metadata"]["annotations"]["weft.io/injected"], inject::defaultOptions().version);
  const Json* proxy = native ? findNamed(spec["initContainers"], "weft-proxy")
                             : findNamed(spec["containers"], "weft-proxy");
  ASSERT_NE(proxy, nullptr);
  if (native) {
    EXPECT_EQ(spec["initContainers"][0]["name"], "weft-proxy");
    EXPECT_EQ((*proxy)["restartPolicy"], "Always");
    EXPECT_EQ((*proxy)["startupProbe"]["httpGet"]["port"], 15100);
  } else {
    EXPECT_EQ(spec["containers"][0]["name"], "weft-proxy");
    EXPECT_TRUE((*proxy).contains("lifecycle"));
  }
  EXPECT_EQ((*proxy)["securityContext"]["runAsUser"], 2102);
  EXPECT_EQ((*proxy)["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ((*proxy)["readinessProbe"]["httpGet"]["path"], "/ready");
  const Json* init = findNamed(spec["initContainers"], "weft-init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ((*init)["securityContext"]["capabilities"]["add"],
            Json::array({"NET_ADMIN", "NET_RAW"}));
  const Json* token = findNamed(spec["volumes"], "weft-identity-token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ((*token)["projected"]["sources"][0]["serviceAccountToken"]["audience"],
            "weft.io/identity");
  EXPECT_EQ(spec["containers"].size(), before["spec"]["containers"].size() + (native ? 0 : 1));
}

TEST_F(AdmissionTest, EveryRecordedReviewIsAnswered) {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fixtureDir())) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("admission-") || !name.ends_with(".request.json")) {
      continue;
    }
    ++seen;
    SCOPED_TRACE(name);
    Json review = loadFixture(name);
    Answer a = send(review);
    ASSERT_EQ(a.httpStatus, 200);
    EXPECT_EQ(a.response["allowed"], true);
    const Json& request = review["request"];
    bool podCreate = request["resource"]["resource"] == "pods" && request["operation"] == "CREATE";
    if (!podCreate) {
      EXPECT_EQ(a.result, "ignored");
      EXPECT_FALSE(a.response.contains("patch"));
      continue;
    }
    // The namespace "fixtures" is labelled for injection in the fake.
    EXPECT_EQ(a.result, "injected");
    Json after = patched(review, a);
    expectInjected(request["object"], after, true);
    // The apiserver may call again (reinvocationPolicy: IfNeeded): no change.
    Json again = review;
    again["request"]["object"] = after;
    Answer second = send(again);
    EXPECT_EQ(second.result, "unchanged");
    EXPECT_FALSE(second.response.contains("patch"));
  }
  EXPECT_GE(seen, 9);
}

TEST_F(AdmissionTest, LegacyModeOnRecordedPod) {
  options_.nativeSidecar = false;
  Json review = loadFixture("admission-pod-create.request.json");
  Answer a = send(review);
  ASSERT_EQ(a.result, "injected");
  expectInjected(review["request"]["object"], patched(review, a), false);
}

TEST_F(AdmissionTest, DryRunIsAnsweredTheSame) {
  Json review = loadFixture("admission-pod-create-dryrun.request.json");
  ASSERT_EQ(review["request"]["dryRun"], true);
  Answer dry = send(review);
  review["request"]["dryRun"] = false;
  Answer wet = send(review);
  EXPECT_EQ(dry.result, "injected");
  EXPECT_EQ(dry.response, wet.response);
}

TEST_F(AdmissionTest, AnnotationOptInWithoutNamespaceLabel) {
  labels_.table.clear();
  Json review = loadFixture("admission-pod-create-generatename.request.json");
  ASSERT_FALSE(review["request"].contains("name"));
  EXPECT_EQ(send(review).result, "skipped");
  review["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "enabled";
  Answer a = send(review);
  EXPECT_EQ(a.result, "injected");
  expectInjected(review["request"]["object"], patched(review, a), true);
}

TEST_F(AdmissionTest, OptOutIsNotPatched) {
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "disabled";
  Answer a = send(review);
  EXPECT_EQ(a.result, "skipped");
  EXPECT_EQ(a.response["allowed"], true);
  EXPECT_FALSE(a.response.contains("patch"));
}

TEST_F(AdmissionTest, ExcludedNamespaceIsNotPatched) {
  labels_.table["kube-system"] = {{"weft.io/inject", "enabled"}};
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["namespace"] = "kube-system";
  review["request"]["object"]["metadata"]["namespace"] = "kube-system";
  review["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "enabled";
  Answer a = send(review);
  EXPECT_EQ(a.result, "skipped");
  EXPECT_FALSE(a.response.contains("patch"));
}

TEST_F(AdmissionTest, HostNetworkGetsWarningAndNoPatch) {
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["object"]["spec"]["hostNetwork"] = true;
  Answer a = send(review);
  EXPECT_EQ(a.result, "skipped");
  EXPECT_FALSE(a.response.contains("patch"));
  ASSERT_TRUE(a.response.contains("warnings"));
  EXPECT_THAT(a.response["warnings"][0].get<std::string>(), HasSubstr("hostNetwork"));
}

TEST_F(AdmissionTest, OtherMeshGetsWarningAndNoPatch) {
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["object"]["spec"]["containers"].push_back(
      Json{{"name", "istio-proxy"}, {"image", "istio/proxyv2"}});
  Answer a = send(review);
  EXPECT_EQ(a.result, "skipped");
  EXPECT_THAT(a.response["warnings"][0].get<std::string>(), HasSubstr("istio-proxy"));
}

TEST_F(AdmissionTest, BadAnnotationIsDeniedWithItsName) {
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["object"]["metadata"]["annotations"]["config.weft.io/skip-outbound-cidrs"] =
      "10.0.0.0/99";
  Answer a = send(review);
  EXPECT_EQ(a.result, "refused");
  EXPECT_EQ(a.response["allowed"], false);
  EXPECT_FALSE(a.response.contains("patch"));
  EXPECT_EQ(a.response["status"]["code"], 400);
  std::string message = a.response["status"]["message"].get<std::string>();
  EXPECT_THAT(message, HasSubstr("config.weft.io/skip-outbound-cidrs"));
  EXPECT_THAT(message, HasSubstr("accepted"));
}

TEST_F(AdmissionTest, NamespaceLookupFailureIsAnInternalError) {
  labels_.fail = true;
  Answer a = send(loadFixture("admission-pod-create.request.json"));
  EXPECT_EQ(a.httpStatus, 500);
  EXPECT_EQ(a.result, "error");
}

// Injected proxies get the bundle of the moment; without one, a pod to mesh
// is an internal error (failurePolicy decides), and other pods pass.
TEST_F(AdmissionTest, TrustBundleIsInjectedAndRequiredToMesh) {
  FakeTrustBundle bundle;
  Json review = loadFixture("admission-pod-create.request.json");
  Answer waiting = send(review, &bundle);
  EXPECT_EQ(waiting.httpStatus, 500);
  EXPECT_EQ(waiting.result, "error");
  Json skipped = review;
  skipped["request"]["object"]["metadata"]["annotations"]["weft.io/inject"] = "disabled";
  EXPECT_EQ(send(skipped, &bundle).result, "skipped");

  bundle.pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  Answer a = send(review, &bundle);
  ASSERT_EQ(a.result, "injected");
  Json pod = patched(review, a);
  expectInjected(review["request"]["object"], pod, true);
  const Json* env = findNamed(findNamed(pod["spec"]["initContainers"], "weft-proxy")->at("env"),
                              "WEFT_TRUST_ANCHORS");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ((*env)["value"], *bundle.pem);
}

TEST_F(AdmissionTest, InvalidBodiesGet400) {
  Mutator mutator(options_, labels_);
  for (const char* body :
       {"", "{", "[]", R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1",
                           "request":{"uid":"x"}})",
        R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"})",
        R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}})",
        R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":7}})"}) {
    Reply r = mutator.review(body);
    EXPECT_EQ(r.httpStatus, 400) << body;
    EXPECT_EQ(r.result, "invalid") << body;
  }
}

TEST_F(AdmissionTest, PodCreateWithoutObjectIsRefused) {
  Json review = loadFixture("admission-pod-create.request.json");
  review["request"]["object"] = nullptr;
  Answer a = send(review);
  EXPECT_EQ(a.response["allowed"], false);
}

TEST(Base64Test, MatchesKnownVectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace weft::webhook::admission
