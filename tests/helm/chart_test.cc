// The chart, rendered by the real helm with the default values and several
// other sets: lint, Pod Security "restricted", the webhook never reaching
// the system namespaces or Weft's own, PDBs, replicas and spreading, images
// that the Dockerfile builds, no generated certificates, the rendered Mesh
// against its CRD, every object against the Kubernetes OpenAPI schemas, the
// CRDs kept identical to crds/, and bad values refused with their message.
#include "tests/helm/chart.h"

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/yaml/yaml.h"
#include "operator/src/identity/ca.h"
#include "tests/common/http/test_tls.h"
#include "tests/crds/openapi_schema.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/helm/dockerfile.h"
#include "tests/support/process.h"

namespace weft::test::helm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// One way to install the chart, and what it must then look like.
struct ValueSet {
  std::string name;
  std::vector<std::string> args;
  std::string ns = "weft-system";
  std::string failurePolicy = "Fail";
  std::string registry = "ghcr.io/weft-mesh";
  std::string tag = "0.1.0";
  std::string pullPolicy = "IfNotPresent";
  std::vector<std::string> excluded;  // besides the system namespaces and ns
  bool matchConditions = true;        // Kubernetes 1.28+
  bool userIssuer = false;
  bool mesh = true;
  bool tests = true;
};

class ChartTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new weft::testing::TempDir();
    auto ca = op::identity::createCa(std::chrono::system_clock::now());
    ASSERT_TRUE(ca.ok());
    weft::testing::writeFileAtomically(dir_->file("root.pem"), ca->caPem);
    weft::testing::writeFileAtomically(dir_->file("issuer.pem"), ca->certPem);
    weft::testing::writeFileAtomically(dir_->file("issuer.key"), ca->keyPem);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::vector<ValueSet> valueSets() {
    auto set = [](std::string name, std::vector<std::string> args) {
      ValueSet v;
      v.name = std::move(name);
      v.args = std::move(args);
      return v;
    };
    std::vector<ValueSet> sets;
    sets.push_back(set("defaults", {}));
    sets.push_back(set("own issuer",
                       {"--set-file", "identity.issuer.rootCertificate=" + dir_->file("root.pem"),
                        "--set-file", "identity.issuer.certificate=" + dir_->file("issuer.pem"),
                        "--set-file", "identity.issuer.key=" + dir_->file("issuer.key")}));
    sets.back().userIssuer = true;
    sets.push_back(set("failurePolicy Ignore", {"--set", "injector.failurePolicy=Ignore"}));
    sets.back().failurePolicy = "Ignore";
    sets.push_back(
        set("custom images", {"--set", "image.registry=registry.example.com:5000/mesh/weft",
                              "--set", "image.tag=1.2.3-rc.1", "--set", "image.pullPolicy=Always",
                              "--set", "image.pullSecrets[0].name=regcred"}));
    sets.back().registry = "registry.example.com:5000/mesh/weft";
    sets.back().tag = "1.2.3-rc.1";
    sets.back().pullPolicy = "Always";
    sets.push_back(set("other namespace, exclusions, no Mesh, no helm test",
                       {"--set-json", R"(injector.excludedNamespaces=["legacy","mesh"])", "--set",
                        "mesh.create=false", "--set", "tests.enabled=false"}));
    sets.back().ns = "mesh";
    sets.back().excluded = {"legacy"};
    sets.back().mesh = false;
    sets.back().tests = false;
    sets.push_back(set("Kubernetes 1.26", {"--kube-version", "1.26.0"}));
    sets.back().matchConditions = false;
    sets.push_back(set("Kubernetes 1.30", {"--kube-version", "1.30.2"}));
    return sets;
  }

  static weft::testing::TempDir* dir_;
};
weft::testing::TempDir* ChartTest::dir_ = nullptr;

// --- helpers --------------------------------------------------------------

std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) {
    out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

// A Kubernetes label selector (matchLabels and matchExpressions) on a label set.
bool selects(const Json& selector, const std::map<std::string, std::string>& labels) {
  const Json matchLabels = selector.value("matchLabels", Json::object());
  for (const auto& [key, value] : matchLabels.items()) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value.get<std::string>()) {
      return false;
    }
  }
  for (const auto& e : selector.value("matchExpressions", Json::array())) {
    auto it = labels.find(e.value("key", ""));
    auto values = strings(e.value("values", Json::array()));
    bool in =
        it != labels.end() && std::find(values.begin(), values.end(), it->second) != values.end();
    std::string op = e.value("operator", "");
    bool ok = op == "In"             ? in
              : op == "NotIn"        ? !in
              : op == "Exists"       ? it != labels.end()
              : op == "DoesNotExist" ? it == labels.end()
                                     : false;
    if (!ok) {
      return false;
    }
  }
  return true;
}

// The Pod Security Standards, "restricted" profile (which includes
// "baseline"), plus a read-only root filesystem: what is wrong with a pod spec.
std::vector<std::string> restrictedViolations(const Json& spec) {
  std::vector<std::string> out;
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (spec.value(host, false)) {
      out.push_back(std::string(host) + " is true");
    }
  }
  static const std::set<std::string> kVolumeTypes = {
      "configMap", "csi",   "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
      "projected", "secret"};
  for (const auto& v : spec.value("volumes", Json::array())) {
    for (const auto& [key, _] : v.items()) {
      if (key != "name" && !kVolumeTypes.count(key)) {
        out.push_back("volume " + v.value("name", "") + " is of type " + key);
      }
    }
  }
  const Json pod = spec.value("securityContext", Json::object());
  if (pod.contains("sysctls") || pod.contains("seLinuxOptions")) {
    out.push_back("pod sets sysctls or seLinuxOptions");
  }
  auto seccomp = [](const Json& sc) {
    return sc.value("seccompProfile", Json::object()).value("type", "");
  };
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& c : spec.value(list, Json::array())) {
      std::string name = c.value("name", "?");
      const Json sc = c.value("securityContext", Json::object());
      auto where = [&](const std::string& what) { return name + ": " + what; };
      if (sc.value("privileged", false)) {
        out.push_back(where("privileged"));
      }
      if (!sc.contains("allowPrivilegeEscalation") || sc["allowPrivilegeEscalation"] != false) {
        out.push_back(where("allowPrivilegeEscalation is not false"));
      }
      bool nonRoot = sc.contains("runAsNonRoot") ? sc["runAsNonRoot"] == true
                                                 : pod.value("runAsNonRoot", false);
      if (!nonRoot) {
        out.push_back(where("runAsNonRoot is not true"));
      }
      if (sc.value("runAsUser", 1) == 0 || pod.value("runAsUser", 1) == 0) {
        out.push_back(where("runs as UID 0"));
      }
      std::string profile = sc.contains("seccompProfile") ? seccomp(sc) : seccomp(pod);
      if (profile != "RuntimeDefault" && profile != "Localhost") {
        out.push_back(where("seccompProfile is \"" + profile + "\""));
      }
      const Json caps = sc.value("capabilities", Json::object());
      auto drop = strings(caps.value("drop", Json::array()));
      if (std::find(drop.begin(), drop.end(), "ALL") == drop.end()) {
        out.push_back(where("capabilities do not drop ALL"));
      }
      for (const auto& add : strings(caps.value("add", Json::array()))) {
        if (add != "NET_BIND_SERVICE") {
          out.push_back(where("adds capability " + add));
        }
      }
      for (const auto& p : c.value("ports", Json::array())) {
        if (p.value("hostPort", 0) != 0) {
          out.push_back(where("uses a host port"));
        }
      }
      if (sc.value("procMount", "Default") != "Default" || sc.contains("seLinuxOptions")) {
        out.push_back(where("sets procMount or seLinuxOptions"));
      }
      if (sc.value("readOnlyRootFilesystem", false) != true) {
        out.push_back(where("readOnlyRootFilesystem is not true"));
      }
    }
  }
  return out;
}

std::map<std::string, std::string> nsLabels(const std::string& name, const std::string& inject) {
  std::map<std::string, std::string> labels{{"kubernetes.io/metadata.name", name}};
  if (!inject.empty()) {
    labels["weft.io/inject"] = inject;
  }
  return labels;
}

// Every pod spec the chart renders, by "Kind/name".
std::map<std::string, const Json*> podSpecs(const std::vector<Json>& objects) {
  std::map<std::string, const Json*> out;
  for (const auto& o : objects) {
    std::string id = o.value("kind", "") + "/" + o["metadata"].value("name", "");
    if (o.value("kind", "") == "Deployment") {
      out[id] = &o["spec"]["template"]["spec"];
    } else if (o.value("kind", "") == "Pod") {
      out[id] = &o["spec"];
    }
  }
  return out;
}

std::string arg(const Json& container, const std::string& flag) {
  for (const auto& a : strings(container.value("args", Json::array()))) {
    if (a.rfind(flag + "=", 0) == 0) {
      return a.substr(flag.size() + 1);
    }
  }
  return "";
}

// --- tests ----------------------------------------------------------------

TEST_F(ChartTest, LintsStrictWithEveryValueSet) {
  for (const auto& set : valueSets()) {
    std::vector<std::string> args{"lint", "--strict", sourcePath("helm/weft"), "--namespace",
                                  set.ns};
    args.insert(args.end(), set.args.begin(), set.args.end());
    auto run = runHelm(args);
    EXPECT_EQ(run.exitCode, 0) << set.name << ":\n" << run.out << run.err;
  }
}

TEST_F(ChartTest, ControlPlanePodsMeetTheRestrictedPodSecurityStandard) {
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name << ": " << objects.error().describe();
    auto pods = podSpecs(*objects);
    EXPECT_EQ(pods.size(), set.tests ? 3u : 2u) << set.name;
    for (const auto& [id, spec] : pods) {
      auto violations = restrictedViolations(*spec);
      EXPECT_TRUE(violations.empty())
          << set.name << ", " << id << ":\n  " << ::testing::PrintToString(violations);
      EXPECT_EQ((*spec)["securityContext"].value("runAsUser", 0), 2102) << id;
    }
  }
}

TEST_F(ChartTest, RestrictedCheckCatchesWhatItShould) {
  auto objects = render();
  ASSERT_TRUE(objects.ok()) << objects.error().describe();
  Json spec = *podSpecs(*objects).at("Deployment/weft-operator");
  ASSERT_TRUE(restrictedViolations(spec).empty());
  Json bad = spec;
  bad["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = true;
  bad["containers"][0]["securityContext"]["capabilities"]["add"] = {"NET_ADMIN"};
  bad["containers"][0]["securityContext"].erase("readOnlyRootFilesystem");
  // The container's own settings win over the pod's.
  bad["containers"][0]["securityContext"].erase("runAsNonRoot");
  bad["securityContext"].erase("runAsNonRoot");
  bad["containers"][0]["securityContext"]["seccompProfile"]["type"] = "Unconfined";
  bad["volumes"].push_back({{"name", "host"}, {"hostPath", {{"path", "/"}}}});
  bad["hostNetwork"] = true;
  EXPECT_EQ(restrictedViolations(bad).size(), 7u)
      << ::testing::PrintToString(restrictedViolations(bad));
}

TEST_F(ChartTest, DeploymentsHaveReplicasDisruptionBudgetsAndSpread) {
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name << ": " << objects.error().describe();
    for (const std::string name : {"weft-operator", "weft-injector"}) {
      const Json* d = find(*objects, "Deployment", name);
      ASSERT_NE(d, nullptr) << name;
      EXPECT_EQ((*d)["metadata"].value("namespace", ""), set.ns);
      int replicas = (*d)["spec"].value("replicas", 0);
      EXPECT_EQ(replicas, 2) << set.name << ", " << name;
      const Json& labels = (*d)["spec"]["template"]["metadata"]["labels"];
      std::map<std::string, std::string> podLabels;
      for (const auto& [k, v] : labels.items()) {
        podLabels[k] = v.get<std::string>();
      }
      EXPECT_TRUE(selects((*d)["spec"]["selector"], podLabels));
      // A PDB that selects these pods and lets one go at a time.
      const Json* pdb = find(*objects, "PodDisruptionBudget", name);
      ASSERT_NE(pdb, nullptr) << name;
      EXPECT_TRUE(selects((*pdb)["spec"]["selector"], podLabels)) << name;
      int minAvailable = (*pdb)["spec"].value("minAvailable", -1);
      EXPECT_GE(minAvailable, 1) << name;
      EXPECT_LT(minAvailable, replicas) << name << ": a drain could never evict a pod";
      // Spread over nodes, and preferably never two on one node.
      const Json& spec = (*d)["spec"]["template"]["spec"];
      bool spreadByNode = false;
      for (const auto& c : spec.value("topologySpreadConstraints", Json::array())) {
        spreadByNode = spreadByNode || (c.value("topologyKey", "") == "kubernetes.io/hostname" &&
                                        selects(c["labelSelector"], podLabels));
      }
      EXPECT_TRUE(spreadByNode) << name;
      const Json anti =
          spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
              ["podAffinityTerm"];
      EXPECT_EQ(anti.value("topologyKey", ""), "kubernetes.io/hostname") << name;
      EXPECT_TRUE(selects(anti["labelSelector"], podLabels)) << name;
    }
  }
}

TEST_F(ChartTest, WebhookNeverReachesSystemNamespacesOrWeftsOwn) {
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name << ": " << objects.error().describe();
    const Json* config = find(*objects, "MutatingWebhookConfiguration", "weft-injector");
    ASSERT_NE(config, nullptr);
    const Json& hooks = (*config)["webhooks"];
    ASSERT_EQ(hooks.size(), 2u);
    std::vector<std::string> never{"kube-system", "kube-public", "kube-node-lease", set.ns};
    never.insert(never.end(), set.excluded.begin(), set.excluded.end());
    for (const auto& hook : hooks) {
      std::string name = hook.value("name", "");
      EXPECT_EQ(hook.value("sideEffects", ""), "None") << name;
      EXPECT_EQ(hook.value("failurePolicy", ""), set.failurePolicy) << name;
      EXPECT_GE(hook.value("timeoutSeconds", 0), 1);
      EXPECT_LE(hook.value("timeoutSeconds", 99), 15) << name << ": not a short timeout";
      EXPECT_EQ(strings(hook["admissionReviewVersions"]), std::vector<std::string>{"v1"});
      EXPECT_EQ(hook["rules"].size(), 1u);
      EXPECT_EQ(strings(hook["rules"][0]["operations"]), std::vector<std::string>{"CREATE"});
      EXPECT_EQ(strings(hook["rules"][0]["resources"]), std::vector<std::string>{"pods"});
      const Json& service = hook["clientConfig"]["service"];
      EXPECT_EQ(service.value("name", ""), "weft-injector");
      EXPECT_EQ(service.value("namespace", ""), set.ns);
      EXPECT_EQ(service.value("path", ""), "/mutate");
      // Nothing to trust yet: the operator patches the caBundle in.
      EXPECT_FALSE(hook["clientConfig"].contains("caBundle")) << name;
      EXPECT_EQ(hook.contains("matchConditions"), set.matchConditions) << set.name << ", " << name;
      for (const auto& ns : never) {
        for (const std::string inject : {"", "enabled", "disabled"}) {
          EXPECT_FALSE(selects(hook["namespaceSelector"], nsLabels(ns, inject)))
              << set.name << ": " << name << " reaches " << ns << " (weft.io/inject=" << inject
              << ")";
        }
      }
    }
    // Between them, the two webhooks see every other namespace exactly once.
    for (const std::string inject : {"", "enabled", "disabled"}) {
      int seen = 0;
      for (const auto& hook : hooks) {
        seen += selects(hook["namespaceSelector"], nsLabels("shop", inject)) ? 1 : 0;
      }
      EXPECT_EQ(seen, 1) << set.name << ": namespace shop, weft.io/inject=" << inject;
    }
    const Json* svc = find(*objects, "Service", "weft-injector");
    ASSERT_NE(svc, nullptr);
    EXPECT_EQ((*svc)["spec"]["ports"][0].value("port", 0), 443);
    EXPECT_EQ((*svc)["spec"]["ports"][0].value("targetPort", ""), "https");
  }
}

TEST_F(ChartTest, ImagesAreDockerfileTargetsAndComeFromValues) {
  auto targets = dockerTargets(sourcePath("Dockerfile"));
  ASSERT_TRUE(targets.ok()) << targets.error().describe();
  // The binary each image must run, by component.
  const std::map<std::string, std::string> binaries{{"weft-operator", "weft-operator"},
                                                    {"weft-injector", "weft-injector"},
                                                    {"weft-proxy", "weft-proxy"},
                                                    {"weftctl", "weftctl"}};
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name << ": " << objects.error().describe();
    std::vector<std::string> images;
    for (const auto& [id, spec] : podSpecs(*objects)) {
      for (const auto& c : (*spec)["containers"]) {
        images.push_back(c.value("image", ""));
        EXPECT_EQ(c.value("imagePullPolicy", ""), set.pullPolicy) << id;
      }
      if (set.pullPolicy == "Always") {
        EXPECT_EQ((*spec)["imagePullSecrets"][0].value("name", ""), "regcred") << id;
      }
    }
    const Json* injector = find(*objects, "Deployment", "weft-injector");
    ASSERT_NE(injector, nullptr);
    const Json& container = (*injector)["spec"]["template"]["spec"]["containers"][0];
    images.push_back(arg(container, "--proxy-image"));
    EXPECT_EQ(arg(container, "--weft-namespace"), set.ns);
    EXPECT_EQ(arg(container, "--control-plane"), "weft-control." + set.ns + ".svc:8443");
    EXPECT_EQ(images.size(), set.tests ? 4u : 3u);
    for (const auto& image : images) {
      std::string prefix = set.registry + "/";
      ASSERT_EQ(image.rfind(prefix, 0), 0u) << set.name << ": " << image;
      std::string rest = image.substr(prefix.size());
      ASSERT_NE(rest.find(':'), std::string::npos) << image;
      std::string target = rest.substr(0, rest.find(':'));
      EXPECT_EQ(rest.substr(rest.find(':') + 1), set.tag) << image;
      auto it = targets->find(target);
      ASSERT_NE(it, targets->end()) << image << ": the Dockerfile has no target " << target;
      ASSERT_TRUE(binaries.count(target)) << target;
      EXPECT_EQ(it->second.entrypoint, "/usr/local/bin/" + binaries.at(target)) << target;
      EXPECT_TRUE(nonRoot(it->second.user))
          << "target " << target << " runs as \"" << it->second.user << "\"";
    }
  }
}

TEST_F(ChartTest, DockerfileTargetsNeverRunAsRoot) {
  auto targets = dockerTargets(sourcePath("Dockerfile"));
  ASSERT_TRUE(targets.ok()) << targets.error().describe();
  for (const auto& [name, target] : *targets) {
    if (!target.entrypoint.empty()) {
      EXPECT_TRUE(nonRoot(target.user)) << name << " runs as \"" << target.user << "\"";
    }
  }
  // The parser itself: no USER means root, USER root and 0 are root.
  weft::testing::writeFileAtomically(dir_->file("Dockerfile"),
                                     "FROM debian:12-slim AS base\nUSER 10:10\n"
                                     "FROM base AS a\nENTRYPOINT [\"/a\"]\n"
                                     "FROM base AS b\nUSER root\nENTRYPOINT [\"/b\"]\n"
                                     "FROM debian:12-slim AS c\nENTRYPOINT /c\n"
                                     "FROM base AS d\nUSER 0:0\nENTRYPOINT [\"/d\"]\n");
  auto sample = dockerTargets(dir_->file("Dockerfile"));
  ASSERT_TRUE(sample.ok());
  EXPECT_TRUE(nonRoot(sample->at("a").user));
  EXPECT_FALSE(nonRoot(sample->at("b").user));
  EXPECT_FALSE(nonRoot(sample->at("c").user));
  EXPECT_FALSE(nonRoot(sample->at("d").user));
  EXPECT_EQ(sample->at("c").entrypoint, "/c");
}

TEST_F(ChartTest, NoGeneratedCertificatesAndTheUsersIssuerAsGiven) {
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name << ": " << objects.error().describe();
    auto secrets = ofKind(*objects, "Secret");
    ASSERT_EQ(secrets.size(), set.userIssuer ? 1u : 0u) << set.name;
    if (set.userIssuer) {
      const Json& s = *secrets[0];
      EXPECT_EQ(s["metadata"].value("name", ""), "weft-identity-issuer");
      EXPECT_EQ(s["metadata"].value("namespace", ""), set.ns);
      EXPECT_EQ(s.value("type", ""), "kubernetes.io/tls");
      EXPECT_EQ(s["stringData"].value("ca.crt", ""), *readFile(dir_->file("root.pem")));
      EXPECT_EQ(s["stringData"].value("tls.crt", ""), *readFile(dir_->file("issuer.pem")));
      EXPECT_EQ(s["stringData"].value("tls.key", ""), *readFile(dir_->file("issuer.key")));
      EXPECT_FALSE(s["stringData"].contains("root.key")) << "the operator must never renew it";
    }
  }
}

TEST_F(ChartTest, TheMeshIsValidAgainstItsCrd) {
  auto crd = yaml::parseOne(*readFile(sourcePath("crds/weft.io_meshes.yaml")));
  ASSERT_TRUE(crd.ok());
  const Json& schema = (*crd)["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
  for (const auto& set : valueSets()) {
    auto objects = render(set.args, set.ns);
    ASSERT_TRUE(objects.ok()) << set.name;
    const Json* mesh = find(*objects, "Mesh", "default");
    ASSERT_EQ(mesh != nullptr, set.mesh) << set.name;
    if (mesh) {
      Json value = *mesh;
      crds::applyDefaults(schema, value);
      auto violations = crds::validate(schema, value);
      EXPECT_TRUE(violations.empty()) << violations.front().describe();
      EXPECT_EQ(value["spec"].value("trustDomain", ""), "cluster.local");
    }
  }
  // And a bad spec from values is what the API server would refuse.
  auto objects = render({"--set", "mesh.spec.mtls.mode=LOOSE"});
  ASSERT_TRUE(objects.ok());
  Json value = *find(*objects, "Mesh", "default");
  crds::applyDefaults(schema, value);
  EXPECT_FALSE(crds::validate(schema, value).empty());
}

TEST_F(ChartTest, EveryObjectIsValidAgainstTheKubernetesSchemas) {
  std::string node = WEFT_NODE;
  ASSERT_FALSE(node.empty()) << "node not found when configuring (scripts/install-deps.sh)";
  ASSERT_TRUE(fs::exists(sourcePath("tests/helm/node_modules/kubernetes-models")))
      << "run scripts/install-tools.sh (npm ci --prefix tests/helm)";
  std::vector<std::string> files;
  for (const auto& set : valueSets()) {
    std::vector<std::string> args{"template", "weft", sourcePath("helm/weft"), "--namespace",
                                  set.ns};
    args.insert(args.end(), set.args.begin(), set.args.end());
    auto run = runHelm(args);
    ASSERT_EQ(run.exitCode, 0) << set.name << ": " << run.err;
    files.push_back(dir_->file("rendered-" + std::to_string(files.size()) + ".yaml"));
    weft::testing::writeFileAtomically(files.back(), run.out);
  }
  std::vector<std::string> argv{node, sourcePath("tests/helm/validate.mjs")};
  argv.insert(argv.end(), files.begin(), files.end());
  auto r = weft::testing::runProcess(argv, "", std::chrono::seconds(60));
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(" 0 problems"));

  // It can fail: a misspelt field and a bad enum are caught.
  std::string broken = *readFile(files[0]);
  auto at = broken.find("readOnlyRootFilesystem");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, std::string("readOnlyRootFilesystem").size(), "readOnlyRootFileSystem");
  at = broken.find("sideEffects: None");
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, std::string("sideEffects: None").size(), "sideEffects: Maybe");
  weft::testing::writeFileAtomically(dir_->file("broken.yaml"), broken);
  r = weft::testing::runProcess(
      {node, sourcePath("tests/helm/validate.mjs"), dir_->file("broken.yaml")});
  EXPECT_NE(r.exitCode, 0);
  EXPECT_THAT(r.out, HasSubstr("readOnlyRootFileSystem: unknown field"));
  EXPECT_THAT(r.out, HasSubstr("sideEffects must be equal to one of the allowed values"));
}

// On 1.28+ the API server filters with the webhooks' CEL matchConditions:
// evaluated for real (cel-es) on pods with and without the annotations.
TEST_F(ChartTest, MatchConditionsSendTheInjectorExactlyThePodsItCanMesh) {
  std::string node = WEFT_NODE;
  ASSERT_FALSE(node.empty()) << "node not found when configuring (scripts/install-deps.sh)";
  ASSERT_TRUE(fs::exists(sourcePath("tests/helm/node_modules/@bufbuild/cel")))
      << "run scripts/install-tools.sh (npm ci --prefix tests/helm)";
  auto run = runHelm({"template", "weft", sourcePath("helm/weft"), "--kube-version", "1.30.2"});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  weft::testing::writeFileAtomically(dir_->file("conditions.yaml"), run.out);
  auto r = weft::testing::runProcess(
      {node, sourcePath("tests/helm/match_conditions.mjs"), dir_->file("conditions.yaml")});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("12 evaluations, 0 problems"));
}

// Rendering against a cluster (what `helm upgrade` does) carries over the
// caBundle the operator patched in, so an upgrade, a rollback or --force
// never leaves the API server without a CA to call the injector with.
TEST_F(ChartTest, UpgradesKeepTheCaBundleTheOperatorPatchedIn) {
  auto server = weft::testing::FakeApiServer::start();
  ASSERT_TRUE(server.ok()) << server.error().describe();
  weft::testing::writeFileAtomically(
      dir_->file("kubeconfig"),
      "apiVersion: v1\nkind: Config\nclusters:\n- name: f\n  cluster: {server: \"" +
          (*server)->url() +
          "\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n"
          "  context: {cluster: f, user: u}\ncurrent-context: c\n");
  auto bundles = [&] {
    std::vector<std::string> out;
    auto objects = render({"--dry-run=server", "--kubeconfig", dir_->file("kubeconfig")});
    EXPECT_TRUE(objects.ok()) << objects.error().describe();
    if (objects.ok()) {
      const Json* hook = find(*objects, "MutatingWebhookConfiguration", "weft-injector");
      for (const auto& w : hook ? (*hook)["webhooks"] : Json::array()) {
        out.push_back(w["clientConfig"].value("caBundle", ""));
      }
    }
    return out;
  };
  // A first install: nothing to keep yet.
  EXPECT_EQ(bundles(), (std::vector<std::string>{"", ""}));
  // Installed by an older chart (one webhook), caBundle patched by the operator.
  weft::testing::FakeRequest create;
  create.method = "POST";
  create.target = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";
  create.body = R"({"metadata": {"name": "weft-injector"}, "webhooks": [
      {"name": "inject.weft.io", "clientConfig": {"caBundle": "T0xEK05FVwo="}}]})";
  ASSERT_EQ((*server)->state().handle(create).status, 201);
  EXPECT_EQ(bundles(), (std::vector<std::string>{"T0xEK05FVwo=", "T0xEK05FVwo="}));
}

TEST_F(ChartTest, ChartCrdsAreTheTopLevelCrds) {
  std::set<std::string> top;
  std::set<std::string> chart;
  for (const auto& e : fs::directory_iterator(sourcePath("crds"))) {
    if (e.path().extension() == ".yaml") {
      top.insert(e.path().filename().string());
    }
  }
  for (const auto& e : fs::directory_iterator(sourcePath("helm/weft/crds"))) {
    chart.insert(e.path().filename().string());
  }
  EXPECT_EQ(top, chart) << "helm/weft/crds must hold exactly crds/*.yaml";
  EXPECT_EQ(top.size(), 4u);
  for (const auto& name : top) {
    EXPECT_EQ(*readFile(sourcePath("crds/" + name)),
              readFile(sourcePath("helm/weft/crds/" + name)).valueOr(""))
        << name << " differs: copy crds/" << name << " to helm/weft/crds/";
  }
}

// weftctl check's rights, as docs/weftctl.md lists them: get only, by name.
TEST_F(ChartTest, TheHelmTestAccountOnlyGetsWhatWeftctlCheckReads) {
  auto objects = render();
  ASSERT_TRUE(objects.ok());
  // role kind, group, resource, verb, name
  using Right = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::set<Right> granted;
  for (const auto& o : *objects) {
    std::string kind = o.value("kind", "");
    if ((kind == "Role" || kind == "ClusterRole") &&
        o["metadata"].value("name", "") == "weft-check") {
      EXPECT_TRUE(isHook(o)) << kind;
      for (const auto& rule : o["rules"]) {
        auto names = strings(rule.value("resourceNames", Json::array()));
        EXPECT_FALSE(names.empty()) << kind << ": a rule without resourceNames";
        for (const auto& g : strings(rule["apiGroups"])) {
          for (const auto& r : strings(rule["resources"])) {
            for (const auto& v : strings(rule["verbs"])) {
              for (const auto& n : names) {
                granted.insert({kind, g, r, v, n});
              }
            }
          }
        }
      }
    }
  }
  const std::set<Right> expected = {
      {"ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "get", "meshes.weft.io"},
      {"ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "get",
       "trafficpolicies.weft.io"},
      {"ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "get",
       "trafficroutes.weft.io"},
      {"ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions", "get",
       "accesspolicies.weft.io"},
      {"ClusterRole", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "get",
       "weft-injector"},
      {"Role", "apps", "deployments", "get", "weft-operator"},
      {"Role", "apps", "deployments", "get", "weft-injector"},
      {"Role", "coordination.k8s.io", "leases", "get", "weft-operator"},
      {"Role", "", "services", "get", "weft-injector"},
      {"Role", "", "configmaps", "get", "weft-trust-bundle"},
  };
  EXPECT_EQ(granted, expected);
  // The CRD names are those of crds/.
  for (const auto& e : fs::directory_iterator(sourcePath("crds"))) {
    if (e.path().extension() == ".yaml") {
      auto crd = yaml::parseOne(*readFile(e.path().string()));
      ASSERT_TRUE(crd.ok());
      EXPECT_TRUE(granted.count({"ClusterRole", "apiextensions.k8s.io", "customresourcedefinitions",
                                 "get", (*crd)["metadata"].value("name", "")}))
          << e.path();
    }
  }
  const Json* pod = find(*objects, "Pod", "weft-check");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ((*pod)["metadata"]["annotations"].value("helm.sh/hook", ""), "test");
  EXPECT_EQ((*pod)["spec"].value("serviceAccountName", ""), "weft-check");
  EXPECT_EQ(strings((*pod)["spec"]["containers"][0]["args"]),
            (std::vector<std::string>{"check", "--namespace=weft-system"}));
  for (const char* kind : {"ClusterRoleBinding", "RoleBinding"}) {
    const Json* binding = find(*objects, kind, "weft-check");
    ASSERT_NE(binding, nullptr) << kind;
    EXPECT_EQ((*binding)["subjects"].size(), 1u);
    EXPECT_EQ((*binding)["subjects"][0].value("name", ""), "weft-check");
    EXPECT_EQ((*binding)["subjects"][0].value("namespace", ""), "weft-system");
  }
}

TEST_F(ChartTest, BadValuesAreRefusedWithAMessage) {
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {{"--set", "injector.failurePolicy=Sometimes"},
       R"(injector.failurePolicy must be one of the following: "Fail", "Ignore")"},
      {{"--set", "injector.timeoutSeconds=30"},
       "injector.timeoutSeconds: Must be less than or equal to 15"},
      {{"--set", "operator.replicas=0"}, "operator.replicas: Must be greater than or equal to 1"},
      {{"--set", "image.pullPolicy=Sometimes"}, "image.pullPolicy must be one of the following"},
      {{"--set", "operator.replica=3"}, "operator: Additional property replica is not allowed"},
      {{"--set", "injector.excludedNamespaces[0]=Not_A_Name"},
       "injector.excludedNamespaces.0: Does not match pattern"},
      {{"--set", "image.registry=ghcr.io/weft/"}, "image.registry: Does not match pattern"},
      {{"--set", "identity.issuer.key=hunter2"}, "identity.issuer.key: Does not match pattern"},
      {{"--set", "mesh.create=maybe"}, "mesh.create: Invalid type. Expected: boolean"},
      {{"--set", "tests.image.name="}, "tests.image.name: Does not match pattern"},
      {{"--set-file", "identity.issuer.rootCertificate=" + dir_->file("root.pem")},
       "identity.issuer: give rootCertificate, certificate and key together, or none of them"},
      {{"--set", "injector.replicas=1"},
       "injector.podDisruptionBudget.minAvailable (1) must be less than injector.replicas (1)"},
      {{"--kube-version", "1.25.9"},
       "chart requires kubeVersion: >=1.26.0-0 which is incompatible with Kubernetes v1.25.9"},
  };
  for (const auto& b : bad) {
    std::vector<std::string> args{"template", "weft", sourcePath("helm/weft")};
    args.insert(args.end(), b.args.begin(), b.args.end());
    auto run = runHelm(args);
    EXPECT_NE(run.exitCode, 0) << ::testing::PrintToString(b.args);
    EXPECT_THAT(run.err, HasSubstr(b.message)) << ::testing::PrintToString(b.args);
  }
}

}  // namespace
}  // namespace weft::test::helm
