// Checks of what the API server stores: the CRDs at this build's versions,
// the operator and injector Deployments, and the operator's leader Lease.
#include <cstdio>
#include <ctime>

#include "cli/src/check_certs.h"
#include "cli/src/check_steps.h"
#include "common/json/json.h"
#include "common/kube/kube_error.h"

namespace weft::cli {
namespace {

using json::Json;
using namespace std::chrono_literals;

const kube::Resource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                           "CustomResourceDefinition", false};
const kube::Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};

constexpr const char* kCrdFix =
    "apply the CRDs of this release: kubectl apply --server-side -f crds/ (helm installs "
    "crds/ on the first install only, never on upgrade)";

// The condition `type` of an object's status, or null.
const Json* condition(const Json& object, const std::string& type) {
  const Json* conds = nullptr;
  if (object.contains("status") && object["status"].is_object() &&
      object["status"].contains("conditions") && object["status"]["conditions"].is_array()) {
    conds = &object["status"]["conditions"];
  }
  if (conds == nullptr) {
    return nullptr;
  }
  for (const auto& c : *conds) {
    if (c.is_object() && c.value("type", "") == type) {
      return &c;
    }
  }
  return nullptr;
}

void checkCrd(CheckContext& ctx, const kube::Resource& expected) {
  std::string crdName = expected.plural + "." + expected.group;
  std::string name = "CRD " + crdName;
  auto crd = ctx.api.get(kCrds, "", crdName);
  if (!crd) {
    if (kube::isNotFound(crd.error())) {
      ctx.report.fail(name, "not found: the API server does not know " + expected.kind, kCrdFix);
    } else {
      ctx.report.fail(name, "cannot read it: " + crd.error().message,
                      fixFor(crd.error(), "run weftctl check again; is the API server healthy?"));
    }
    return;
  }
  const Json* version = nullptr;
  std::string others;
  std::string storedAs;
  if (crd->contains("spec") && (*crd)["spec"].contains("versions") &&
      (*crd)["spec"]["versions"].is_array()) {
    for (const auto& v : (*crd)["spec"]["versions"]) {
      std::string vName = v.is_object() ? v.value("name", "") : "";
      if (vName == expected.version) {
        version = &v;
      } else if (!vName.empty()) {
        others += (others.empty() ? "" : ", ") + vName;
      }
      if (v.is_object() && v.value("storage", false)) {
        storedAs = vName;
      }
    }
  }
  if (version == nullptr) {
    ctx.report.fail(name,
                    "has no version " + expected.version +
                        " (it has: " + (others.empty() ? "none" : others) +
                        "); this weftctl expects " + expected.version,
                    kCrdFix + std::string(", or use the weftctl of the installed release"));
    return;
  }
  if (!version->value("served", false)) {
    ctx.report.fail(name, "version " + expected.version + " is not served", kCrdFix);
    return;
  }
  if (storedAs != expected.version) {
    ctx.report.fail(name,
                    "stores " + (storedAs.empty() ? std::string("no version") : storedAs) +
                        ", not " + expected.version,
                    kCrdFix);
    return;
  }
  const Json* established = condition(*crd, "Established");
  if (established == nullptr || established->value("status", "") != "True") {
    std::string why = established == nullptr ? "no Established condition yet"
                                             : established->value("reason", "") + ": " +
                                                   established->value("message", "");
    const Json* names = condition(*crd, "NamesAccepted");
    if (names != nullptr && names->value("status", "") == "False") {
      why += "; NamesAccepted is False: " + names->value("message", "");
    }
    ctx.report.fail(name, "not Established (" + why + ")",
                    "kubectl describe crd " + crdName +
                        " (NamesAccepted=False means another CRD claims its names)");
    return;
  }
  ctx.report.ok(name, expected.version + " served and stored, Established");
}

void checkDeployment(CheckContext& ctx, const std::string& what, const std::string& deployment) {
  std::string name = what + " Deployment available";
  std::string ref = ctx.ns + "/" + deployment;
  auto d = ctx.api.get(kDeployments, ctx.ns, deployment);
  if (!d) {
    if (kube::isNotFound(d.error())) {
      ctx.report.fail(name, "Deployment " + ref + " not found",
                      "install Weft (helm install weft helm/weft -n " + ctx.ns +
                          " --create-namespace), or pass --namespace where it is installed");
    } else {
      ctx.report.fail(name, "cannot read Deployment " + ref + ": " + d.error().message,
                      fixFor(d.error(), "run weftctl check again"));
    }
    return;
  }
  std::int64_t wanted = json::getIntOr(*d, "/spec/replicas", 1).valueOr(1);
  std::int64_t ready = json::getIntOr(*d, "/status/readyReplicas", 0).valueOr(0);
  std::string counts = std::to_string(ready) + " of " + std::to_string(wanted) + " replicas ready";
  std::string debug = "kubectl -n " + ctx.ns + " describe deployment " + deployment +
                      "; kubectl -n " + ctx.ns + " logs deployment/" + deployment;
  if (wanted == 0) {
    ctx.report.fail(name, ref + " is scaled to 0 replicas",
                    "kubectl -n " + ctx.ns + " scale deployment " + deployment + " --replicas=2");
    return;
  }
  if (ready < 1) {
    std::string why;
    if (const Json* available = condition(*d, "Available")) {
      why = ": " + available->value("message", "");
    }
    ctx.report.fail(name, ref + ": " + counts + why, debug);
    return;
  }
  if (ready < wanted) {
    ctx.report.warn(name, ref + ": only " + counts, debug);
    return;
  }
  ctx.report.ok(name, ref + ": " + counts);
}

// metav1.MicroTime / Time: "2026-11-30T10:00:00.123456Z" or without the fraction.
bool parseKubeTime(const std::string& s, SystemTime& out) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
      n != 19 || tm.tm_mon < 1 || tm.tm_mon > 12) {
    return false;
  }
  std::size_t i = 19;
  long long micros = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (digits++ < 6) {
        micros = micros * 10 + (s[i] - '0');
      }
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
  }
  if (i + 1 != s.size() || s[i] != 'Z') {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  out = std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::microseconds(micros);
  return true;
}

void checkLeader(CheckContext& ctx) {
  const std::string name = "operator leader elected";
  const std::string lease = "weft-operator";
  std::string ref = "Lease " + ctx.ns + "/" + lease;
  std::string logs = "kubectl -n " + ctx.ns + " logs deployment/weft-operator";
  auto l = ctx.api.get(kube::resources::leases(), ctx.ns, lease);
  if (!l) {
    if (kube::isNotFound(l.error())) {
      ctx.report.fail(name,
                      "no " + ref +
                          ": no replica was ever elected, so no status or Events are "
                          "written",
                      logs + " (leader election errors? the operator needs create on leases)");
    } else {
      ctx.report.fail(name, "cannot read " + ref + ": " + l.error().message,
                      fixFor(l.error(), "run weftctl check again"));
    }
    return;
  }
  std::string holder = json::getStringOr(*l, "/spec/holderIdentity", "").valueOr("");
  if (holder.empty()) {
    ctx.report.fail(name, ref + " has no holder (the last leader released it)",
                    "during a rollout, run again in a few seconds; otherwise " + logs);
    return;
  }
  std::int64_t duration = json::getIntOr(*l, "/spec/leaseDurationSeconds", 15).valueOr(15);
  std::string renewText = json::getStringOr(*l, "/spec/renewTime", "").valueOr("");
  SystemTime renewed;
  if (!parseKubeTime(renewText, renewed)) {
    ctx.report.fail(
        name, ref + " held by " + holder + " has no readable renewTime (\"" + renewText + "\")",
        logs);
    return;
  }
  // Renewed by the leader's clock, judged by ours: allow for some skew.
  auto age = std::chrono::duration_cast<std::chrono::seconds>(ctx.now - renewed);
  if (age > std::chrono::seconds(duration) + 30s) {
    ctx.report.fail(name,
                    ref + " held by " + holder + " was last renewed " + formatSpan(age) +
                        " ago (lease duration " + std::to_string(duration) + "s)",
                    "the leader is stuck or cut off from the API server: " + logs);
    return;
  }
  ctx.report.ok(name, holder);
}

}  // namespace

std::vector<kube::Resource> weftCrds() {
  return {kube::resources::meshes(), kube::resources::trafficPolicies(),
          kube::resources::trafficRoutes(), kube::resources::accessPolicies()};
}

void checkCrds(CheckContext& ctx) {
  for (const auto& r : weftCrds()) {
    checkCrd(ctx, r);
  }
}

void checkDeployments(CheckContext& ctx) {
  checkDeployment(ctx, "operator", "weft-operator");
  checkLeader(ctx);
  checkDeployment(ctx, "injector", "weft-injector");
}

}  // namespace weft::cli
