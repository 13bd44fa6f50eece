// inject/: opt-in rules, the injected parts, overrides, idempotence, patches.
#include "webhook/src/inject/inject.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "webhook/src/inject/overrides.h"

namespace weft::webhook::inject {
namespace {

using json::Json;
using ::testing::HasSubstr;

Json basePod() {
  return Json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "demo",
                 "annotations": {"example.com/keep": "yes"}},
    "spec": {
      "containers": [{"name": "app", "image": "app:1",
                      "ports": [{"name": "http", "containerPort": 8080}],
                      "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                      "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}],
      "initContainers": [{"name": "migrate", "image": "migrate:1"}],
      "volumes": [{"name": "data", "emptyDir": {}}]
    }})");
}

Json optedIn(Json pod = basePod()) {
  pod["metadata"]["annotations"]["weft.io/inject"] = "enabled";
  return pod;
}

Options nativeOptions() {
  Options o = defaultOptions();
  o.nativeSidecar = true;
  return o;
}

Options legacyOptions() {
  Options o = defaultOptions();
  o.nativeSidecar = false;
  return o;
}

PodContext inNamespace(const std::string& ns) { return PodContext{ns, {}, false}; }

const Json* findNamed(const Json& list, const std::string& name) {
  for (const auto& item : list) {
    if (item["name"] == name) {
      return &item;
    }
  }
  return nullptr;
}

std::vector<std::string> names(const Json& list) {
  std::vector<std::string> out;
  for (const auto& item : list) {
    out.push_back(item["name"].get<std::string>());
  }
  return out;
}

Decision mustInject(const Json& pod, const PodContext& ctx, const Options& o) {
  auto d = injectPod(pod, ctx, o);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Decision{};
}

TEST(InjectTest, AnnotationOptsIn) {
  auto d = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  EXPECT_EQ(d.outcome, Outcome::kInjected);
  EXPECT_EQ(d.pod["metadata"]["annotations"]["weft.io/injected"], defaultOptions().version);
}

TEST(InjectTest, NamespaceLabelOptsIn) {
  PodContext ctx{"demo", {{"weft.io/inject", "enabled"}}, false};
  EXPECT_EQ(mustInject(basePod(), ctx, nativeOptions()).outcome, Outcome::kInjected);
  PodContext other{"demo", {{"weft.io/inject", "disabled"}}, false};
  EXPECT_EQ(mustInject(basePod(), other, nativeOptions()).outcome, Outcome::kSkipped);
}

TEST(InjectTest, NotOptedInIsLeftAlone) {
  auto d = mustInject(basePod(), inNamespace("demo"), nativeOptions());
  EXPECT_EQ(d.outcome, Outcome::kSkipped);
  EXPECT_EQ(d.pod, basePod());
}

TEST(InjectTest, OptOutAnnotationWinsOverNamespaceLabel) {
  Json pod = basePod();
  pod["metadata"]["annotations"]["weft.io/inject"] = "disabled";
  PodContext ctx{"demo", {{"weft.io/inject", "enabled"}}, false};
  auto d = mustInject(pod, ctx, nativeOptions());
  EXPECT_EQ(d.outcome, Outcome::kSkipped);
  EXPECT_EQ(d.reason, "opted out");
  EXPECT_EQ(d.pod, pod);
}

TEST(InjectTest, ExcludedNamespacesAreNeverInjected) {
  Options o = nativeOptions();
  o.weftNamespace = "weft";
  for (const char* ns : {"kube-system", "kube-public", "kube-node-lease", "weft"}) {
    PodContext ctx{ns, {{"weft.io/inject", "enabled"}}, true};
    auto d = mustInject(optedIn(), ctx, o);
    EXPECT_EQ(d.outcome, Outcome::kSkipped) << ns;
    EXPECT_EQ(d.reason, "excluded namespace") << ns;
  }
}

TEST(InjectTest, HostNetworkIsSkippedWithWarning) {
  Json pod = optedIn();
  pod["spec"]["hostNetwork"] = true;
  auto d = mustInject(pod, inNamespace("demo"), nativeOptions());
  EXPECT_EQ(d.outcome, Outcome::kSkipped);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("hostNetwork"));
}

TEST(InjectTest, OtherMeshSidecarIsSkippedWithWarning) {
  for (const char* other : {"istio-proxy", "linkerd-proxy"}) {
    Json pod = optedIn();
    pod["spec"]["containers"].push_back(Json{{"name", other}, {"image", "x"}});
    auto d = mustInject(pod, inNamespace("demo"), nativeOptions());
    EXPECT_EQ(d.outcome, Outcome::kSkipped) << other;
    ASSERT_EQ(d.warnings.size(), 1u);
    EXPECT_THAT(d.warnings[0], HasSubstr(other));
  }
}

TEST(InjectTest, NativeSidecarLayout) {
  auto d = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  const Json& spec = d.pod["spec"];
  EXPECT_EQ(names(spec["initContainers"]),
            (std::vector<std::string>{"weft-proxy", "weft-init", "migrate"}));
  EXPECT_EQ(names(spec["containers"]), (std::vector<std::string>{"app"}));
  const Json& proxy = spec["initContainers"][0];
  EXPECT_EQ(proxy["restartPolicy"], "Always");
  EXPECT_EQ(proxy["startupProbe"]["httpGet"]["path"], "/ready");
  EXPECT_EQ(proxy["startupProbe"]["httpGet"]["port"], 15100);
  EXPECT_FALSE(proxy.contains("lifecycle"));
}

TEST(InjectTest, LegacyLayoutWaitsAndDrains) {
  Json pod = optedIn();
  pod["spec"]["terminationGracePeriodSeconds"] = 45;
  auto d = mustInject(pod, inNamespace("demo"), legacyOptions());
  const Json& spec = d.pod["spec"];
  EXPECT_EQ(names(spec["initContainers"]), (std::vector<std::string>{"weft-init", "migrate"}));
  EXPECT_EQ(names(spec["containers"]), (std::vector<std::string>{"weft-proxy", "app"}));
  const Json& proxy = spec["containers"][0];
  EXPECT_FALSE(proxy.contains("restartPolicy"));
  EXPECT_EQ(proxy["lifecycle"]["postStart"]["exec"]["command"][1], "wait");
  EXPECT_EQ(proxy["lifecycle"]["preStop"]["exec"]["command"][1], "drain");
  EXPECT_EQ(proxy["lifecycle"]["preStop"]["exec"]["command"][3], "40s");
  EXPECT_FALSE(d.pod["metadata"]["annotations"].contains("weft.io/proxy-exit"));
}

TEST(InjectTest, LegacyJobProxyExitsWithApps) {
  Json pod = optedIn();
  pod["spec"]["restartPolicy"] = "Never";
  auto d = mustInject(pod, inNamespace("demo"), legacyOptions());
  EXPECT_EQ(d.pod["metadata"]["annotations"]["weft.io/proxy-exit"], "apps-done");
  const Json* env = findNamed(d.pod["spec"]["containers"][0]["env"], "WEFT_APP_CONTAINERS");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ((*env)["value"], "app");
  // With native sidecars the kubelet handles Jobs itself.
  auto native = mustInject(pod, inNamespace("demo"), nativeOptions());
  EXPECT_FALSE(native.pod["metadata"]["annotations"].contains("weft.io/proxy-exit"));
}

TEST(InjectTest, ProxySecurityEnvTokenAndProbes) {
  auto d = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  const Json& proxy = d.pod["spec"]["initContainers"][0];
  const Json& sc = proxy["securityContext"];
  EXPECT_EQ(sc["runAsUser"], 2102);
  EXPECT_EQ(sc["runAsNonRoot"], true);
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["capabilities"]["drop"], Json::array({"ALL"}));
  EXPECT_FALSE(sc["capabilities"].contains("add"));
  EXPECT_EQ(sc["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_EQ(proxy["readinessProbe"]["httpGet"]["path"], "/ready");
  EXPECT_EQ(proxy["readinessProbe"]["httpGet"]["port"], 15100);
  for (auto [name, field] : std::vector<std::pair<std::string, std::string>>{
           {"POD_NAME", "metadata.name"},
           {"POD_NAMESPACE", "metadata.namespace"},
           {"POD_IP", "status.podIP"},
           {"SERVICE_ACCOUNT", "spec.serviceAccountName"}}) {
    const Json* env = findNamed(proxy["env"], name);
    ASSERT_NE(env, nullptr) << name;
    EXPECT_EQ((*env)["valueFrom"]["fieldRef"]["fieldPath"], field);
  }
  const Json* token = findNamed(d.pod["spec"]["volumes"], "weft-identity-token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ((*token)["projected"]["sources"][0]["serviceAccountToken"]["audience"],
            "weft.io/identity");
  EXPECT_EQ(proxy["volumeMounts"][0]["name"], "weft-identity-token");
  EXPECT_EQ(proxy["resources"]["requests"]["cpu"], "100m");
  EXPECT_EQ(proxy["resources"]["limits"]["memory"], "256Mi");
}

// The proxy verifies the control plane with the mesh's trust anchors.
TEST(InjectTest, TrustAnchorsReachTheProxyOnlyWhenKnown) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  Options withAnchors = nativeOptions();
  withAnchors.trustAnchors = pem;
  auto d = mustInject(optedIn(), inNamespace("demo"), withAnchors);
  const Json* env = findNamed(d.pod["spec"]["initContainers"][0]["env"], "WEFT_TRUST_ANCHORS");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ((*env)["value"], pem);
  EXPECT_FALSE(env->contains("valueFrom"));
  // Injecting the result again changes nothing; new anchors replace the old.
  auto again = mustInject(d.pod, inNamespace("demo"), withAnchors);
  EXPECT_EQ(again.pod, d.pod);
  withAnchors.trustAnchors = pem + pem;
  auto rotated = mustInject(d.pod, inNamespace("demo"), withAnchors);
  auto envs = rotated.pod["spec"]["initContainers"][0]["env"];
  EXPECT_EQ(std::count_if(envs.begin(), envs.end(),
                          [](const Json& e) { return e["name"] == "WEFT_TRUST_ANCHORS"; }),
            1);
  EXPECT_EQ((*findNamed(envs, "WEFT_TRUST_ANCHORS"))["value"], pem + pem);

  auto without = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  EXPECT_EQ(findNamed(without.pod["spec"]["initContainers"][0]["env"], "WEFT_TRUST_ANCHORS"),
            nullptr);
}

TEST(InjectTest, InitContainerHasOnlyNetAdminAndNetRaw) {
  auto d = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  const Json* init = findNamed(d.pod["spec"]["initContainers"], "weft-init");
  ASSERT_NE(init, nullptr);
  const Json& sc = (*init)["securityContext"];
  EXPECT_EQ(sc["capabilities"]["add"], Json::array({"NET_ADMIN", "NET_RAW"}));
  EXPECT_EQ(sc["capabilities"]["drop"], Json::array({"ALL"}));
  EXPECT_EQ(sc["privileged"], false);
  EXPECT_EQ(sc["runAsUser"], 0);
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  const Json& args = (*init)["args"];
  EXPECT_EQ(args[0], "init");
  auto arg = [&](const std::string& flag) -> std::string {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) {
        return args[i + 1].get<std::string>();
      }
    }
    return "<absent>";
  };
  EXPECT_EQ(arg("--proxy-uid"), "2102");
  EXPECT_EQ(arg("--inbound-port"), "15106");
  EXPECT_EQ(arg("--outbound-port"), "15101");
  EXPECT_EQ(arg("--skip-inbound-ports"), "15100");
  EXPECT_EQ(arg("--skip-outbound-ports"), "<absent>");
}

TEST(InjectTest, OverridesAreApplied) {
  Json pod = optedIn();
  auto& a = pod["metadata"]["annotations"];
  a["config.weft.io/proxy-cpu-request"] = "250m";
  a["config.weft.io/proxy-cpu-limit"] = "1";
  a["config.weft.io/proxy-memory-request"] = "512Mi";  // above the default limit: raises it
  a["config.weft.io/skip-inbound-ports"] = "9090, 9100-9110";
  a["config.weft.io/skip-outbound-ports"] = "3306";
  a["config.weft.io/skip-outbound-cidrs"] = "10.0.0.0/8, fd00::/8,192.0.2.1";
  a["config.weft.io/proxy-log-level"] = "debug";
  auto d = mustInject(pod, inNamespace("demo"), nativeOptions());
  const Json& proxy = d.pod["spec"]["initContainers"][0];
  EXPECT_EQ(proxy["resources"]["requests"]["cpu"], "250m");
  EXPECT_EQ(proxy["resources"]["limits"]["cpu"], "1");
  EXPECT_EQ(proxy["resources"]["requests"]["memory"], "512Mi");
  EXPECT_EQ(proxy["resources"]["limits"]["memory"], "512Mi");
  std::string proxyArgs = json::dump(proxy["args"]);
  EXPECT_THAT(proxyArgs, HasSubstr(R"("--log-level","debug")"));
  std::string initArgs = json::dump(d.pod["spec"]["initContainers"][1]["args"]);
  EXPECT_THAT(initArgs, HasSubstr(R"("--skip-inbound-ports","15100,9090,9100-9110")"));
  EXPECT_THAT(initArgs, HasSubstr(R"("--skip-outbound-ports","3306")"));
  EXPECT_THAT(initArgs, HasSubstr(R"("--skip-outbound-cidrs","10.0.0.0/8,fd00::/8,192.0.2.1/32")"));
}

struct BadAnnotation {
  const char* key;
  const char* value;
  const char* accepted;  // part of the accepted form the message must name
};

class BadAnnotationTest : public ::testing::TestWithParam<BadAnnotation> {};

TEST_P(BadAnnotationTest, RefusesThePodNamingTheAnnotation) {
  Json pod = optedIn();
  pod["metadata"]["annotations"][GetParam().key] = GetParam().value;
  auto d = injectPod(pod, inNamespace("demo"), nativeOptions());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(d.error().message, HasSubstr(GetParam().key));
  EXPECT_THAT(d.error().message, HasSubstr("accepted"));
  EXPECT_THAT(d.error().message, HasSubstr(GetParam().accepted));
}

INSTANTIATE_TEST_SUITE_P(
    All, BadAnnotationTest,
    ::testing::Values(
        BadAnnotation{"config.weft.io/proxy-cpu-request", "lots", "Kubernetes quantity"},
        BadAnnotation{"config.weft.io/proxy-cpu-limit", "-1", "Kubernetes quantity"},
        BadAnnotation{"config.weft.io/proxy-memory-request", "12XB", "Kubernetes quantity"},
        BadAnnotation{"config.weft.io/proxy-memory-limit", "1.2.3Gi", "Kubernetes quantity"},
        BadAnnotation{"config.weft.io/skip-inbound-ports", "80,http", "1-65535"},
        BadAnnotation{"config.weft.io/skip-outbound-ports", "70000", "1-65535"},
        BadAnnotation{"config.weft.io/skip-outbound-cidrs", "10.0.0.0/33", "CIDRs"},
        BadAnnotation{"config.weft.io/skip-outbound-cidrs", "example.com", "CIDRs"},
        BadAnnotation{"config.weft.io/proxy-log-level", "verbose", "trace, debug"}));

TEST(InjectTest, RequestAboveLimitIsRefused) {
  Json pod = optedIn();
  pod["metadata"]["annotations"]["config.weft.io/proxy-memory-request"] = "1Gi";
  pod["metadata"]["annotations"]["config.weft.io/proxy-memory-limit"] = "512Mi";
  auto d = injectPod(pod, inNamespace("demo"), nativeOptions());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().message, HasSubstr("config.weft.io/proxy-memory-limit"));
}

TEST(InjectTest, ProbePathsAreRecorded) {
  auto d = mustInject(optedIn(), inNamespace("demo"), nativeOptions());
  auto recorded =
      json::parse(d.pod["metadata"]["annotations"]["weft.io/probe-paths"].get<std::string>());
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(*recorded, Json::parse(R"([{"port":8080,"path":"/healthz"},
                                       {"port":8080,"path":"/ready"}])"));
}

TEST(InjectTest, ExistingPartsArePreservedExactly) {
  Json pod = optedIn();
  auto d = mustInject(pod, inNamespace("demo"), nativeOptions());
  EXPECT_EQ(*findNamed(d.pod["spec"]["containers"], "app"), pod["spec"]["containers"][0]);
  EXPECT_EQ(*findNamed(d.pod["spec"]["initContainers"], "migrate"),
            pod["spec"]["initContainers"][0]);
  EXPECT_EQ(d.pod["spec"]["volumes"][0], pod["spec"]["volumes"][0]);
  EXPECT_EQ(d.pod["metadata"]["annotations"]["example.com/keep"], "yes");
  EXPECT_EQ(d.pod["metadata"]["name"], "web");
}

TEST(InjectTest, DoubleInjectionEqualsSingleInjection) {
  for (bool native : {true, false}) {
    Options o = native ? nativeOptions() : legacyOptions();
    Json pod = optedIn();
    pod["spec"]["restartPolicy"] = "OnFailure";
    auto once = mustInject(pod, inNamespace("demo"), o);
    auto twice = mustInject(once.pod, inNamespace("demo"), o);
    EXPECT_EQ(twice.outcome, Outcome::kInjected);
    EXPECT_EQ(twice.pod, once.pod) << "native=" << native;
    auto patch = makePatch(once.pod, twice.pod);
    ASSERT_TRUE(patch.ok());
    EXPECT_TRUE(patch->empty());
  }
}

TEST(InjectTest, ReinjectionAppliesNewOverridesAndMode) {
  auto once = mustInject(optedIn(), inNamespace("demo"), legacyOptions());
  Json changed = once.pod;
  changed["metadata"]["annotations"]["config.weft.io/proxy-log-level"] = "warn";
  auto again = mustInject(changed, inNamespace("demo"), nativeOptions());
  EXPECT_EQ(names(again.pod["spec"]["containers"]), (std::vector<std::string>{"app"}));
  EXPECT_EQ(again.pod["spec"]["initContainers"][0]["name"], "weft-proxy");
  EXPECT_THAT(json::dump(again.pod["spec"]["initContainers"][0]["args"]), HasSubstr("warn"));
}

TEST(InjectTest, ReservedContainerNameIsRefused) {
  Json pod = optedIn();
  pod["spec"]["containers"].push_back(Json{{"name", "weft-proxy"}, {"image", "mine"}});
  auto d = injectPod(pod, inNamespace("demo"), nativeOptions());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().message, HasSubstr("reserved"));
}

TEST(InjectTest, MalformedPodsAreRefusedNotAsserted) {
  for (
      const char* text :
      {R"([])", R"({"spec": 3})", R"({"spec": {"containers": "x"}})",
       R"({"spec": {"containers": []}})", R"({"spec": {"containers": [{"image": "x"}]}})",
       R"({"metadata": {"annotations": {"weft.io/inject": 1}}, "spec": {"containers": [{"name": "a"}]}})"}) {
    auto d = injectPod(Json::parse(text), PodContext{"demo", {}, true}, nativeOptions());
    EXPECT_FALSE(d.ok()) << text;
  }
}

TEST(InjectTest, PodWithoutAnnotationsOrVolumes) {
  Json pod = Json::parse(R"({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}})");
  auto d =
      mustInject(pod, PodContext{"demo", {{"weft.io/inject", "enabled"}}, false}, nativeOptions());
  EXPECT_EQ(d.outcome, Outcome::kInjected);
  auto patch = makePatch(pod, d.pod);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(pod.patch(*patch), d.pod);
  auto again = mustInject(d.pod, PodContext{"demo", {}, false}, nativeOptions());
  EXPECT_EQ(again.pod, d.pod);
}

TEST(InjectTest, PatchPrependsContainersInsteadOfRewritingThem) {
  auto d = mustInject(optedIn(), inNamespace("demo"), legacyOptions());
  auto patch = makePatch(optedIn(), d.pod);
  ASSERT_TRUE(patch.ok());
  for (const auto& op : *patch) {
    EXPECT_EQ(op["op"], "add") << json::dump(op);
  }
  EXPECT_EQ(optedIn().patch(*patch), d.pod);
}

TEST(InjectTest, NativeSidecarSupportByVersion) {
  for (auto [version, native] :
       std::vector<std::pair<const char*, bool>>{{"v1.29.0", true},
                                                 {"v1.30.2-eks-1234", true},
                                                 {"1.31+", true},
                                                 {"v2.0.0", true},
                                                 {"v1.28.9", false},
                                                 {"v1.26.1", false}}) {
    auto r = supportsNativeSidecars(version);
    ASSERT_TRUE(r.ok()) << version;
    EXPECT_EQ(*r, native) << version;
  }
  EXPECT_FALSE(supportsNativeSidecars("latest").ok());
  EXPECT_FALSE(supportsNativeSidecars("v1").ok());
}

TEST(OverridesTest, Quantities) {
  EXPECT_DOUBLE_EQ(static_cast<double>(parseQuantity("100m")->value), 0.1);
  EXPECT_DOUBLE_EQ(static_cast<double>(parseQuantity("1Gi")->value), 1073741824.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(parseQuantity("1.5")->value), 1.5);
  EXPECT_DOUBLE_EQ(static_cast<double>(parseQuantity("2e3")->value), 2000.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(parseQuantity("128M")->value), 128e6);
  for (const char* bad : {"", "m", "1mm", "1 Gi", "-5", "1.2.3", "0x10", "1e"}) {
    EXPECT_FALSE(parseQuantity(bad).ok()) << bad;
  }
}

TEST(OverridesTest, PortAndCidrLists) {
  EXPECT_EQ(*parsePortList(" 80 ,443,8000-8080"), "80,443,8000-8080");
  EXPECT_FALSE(parsePortList("0").ok());
  EXPECT_FALSE(parsePortList("90-80").ok());
  EXPECT_FALSE(parsePortList("80,,81").ok());
  EXPECT_EQ(*parseCidrList("10.0.0.0/8,::1"), "10.0.0.0/8,::1/128");
  EXPECT_FALSE(parseCidrList("fd00::/129").ok());
  EXPECT_FALSE(parseCidrList("10.0.0.0/").ok());
}

}  // namespace
}  // namespace weft::webhook::inject
