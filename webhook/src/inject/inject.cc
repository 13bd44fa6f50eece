// The injection decision (opt-in rules), stripping of earlier injections, and
// assembly of the meshed pod.
#include "webhook/src/inject/inject.h"

#include <algorithm>
#include <array>
#include <set>

#include "webhook/src/inject/overrides.h"
#include "webhook/src/inject/parts.h"
#include "weft/version.h"

namespace weft::webhook::inject {
namespace {

using json::Json;

constexpr std::array<std::string_view, 3> kSystemNamespaces{"kube-system", "kube-public",
                                                            "kube-node-lease"};
// Sidecars of other meshes: two proxies would fight over the same redirect.
constexpr std::array<std::string_view, 4> kOtherMeshContainers{"istio-proxy", "istio-init",
                                                               "linkerd-proxy", "linkerd-init"};

Error invalid(const std::string& message) {
  return makeError(ErrorCode::kInvalidArgument, message);
}

// Checks the shape of what we read or rewrite; anything else is left as is.
Result<void> validatePod(const Json& pod) {
  if (!pod.is_object()) {
    return invalid("the pod is not a JSON object");
  }
  if (pod.contains("metadata") && !pod["metadata"].is_object()) {
    return invalid("metadata must be an object");
  }
  if (pod.contains("metadata") && pod["metadata"].contains("annotations")) {
    const Json& annotations = pod["metadata"]["annotations"];
    if (!annotations.is_object() && !annotations.is_null()) {
      return invalid("metadata.annotations must be an object");
    }
    if (annotations.is_object()) {
      for (const auto& [key, value] : annotations.items()) {
        if (!value.is_string()) {
          return invalid("metadata.annotations." + key + " must be a string");
        }
      }
    }
  }
  if (!pod.contains("spec") || !pod["spec"].is_object()) {
    return invalid("spec must be an object");
  }
  const Json& spec = pod["spec"];
  for (const char* list : {"containers", "initContainers", "volumes"}) {
    if (!spec.contains(list) || spec[list].is_null()) {
      continue;
    }
    if (!spec[list].is_array()) {
      return invalid(std::string("spec.") + list + " must be a list");
    }
    for (const auto& item : spec[list]) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) {
        return invalid(std::string("every entry of spec.") + list + " needs a string name");
      }
    }
  }
  if (!spec.contains("containers") || !spec["containers"].is_array() ||
      spec["containers"].empty()) {
    return invalid("spec.containers must list at least one container");
  }
  return okResult();
}

std::map<std::string, std::string> annotationsOf(const Json& pod) {
  std::map<std::string, std::string> out;
  if (pod.contains("metadata") && pod["metadata"].contains("annotations") &&
      pod["metadata"]["annotations"].is_object()) {
    for (const auto& [key, value] : pod["metadata"]["annotations"].items()) {
      out[key] = value.get<std::string>();
    }
  }
  return out;
}

bool hasContainer(const Json& spec, std::string_view name) {
  for (const char* list : {"containers", "initContainers"}) {
    if (spec.contains(list) && spec[list].is_array()) {
      for (const auto& c : spec[list]) {
        if (c["name"] == name) {
          return true;
        }
      }
    }
  }
  return false;
}

// Removes every element of spec[list] whose name is in `names`; drops the list
// when that empties it, so that strip(inject(pod)) has the shape of pod.
void removeNamed(Json& spec, const char* list, const std::vector<std::string>& names) {
  if (!spec.contains(list) || !spec[list].is_array()) {
    return;
  }
  Json kept = Json::array();
  for (auto& item : spec[list]) {
    if (std::find(names.begin(), names.end(), item["name"].get<std::string>()) == names.end()) {
      kept.push_back(std::move(item));
    }
  }
  if (kept.empty()) {
    spec.erase(list);
  } else {
    spec[list] = std::move(kept);
  }
}

void strip(Json& pod) {
  Json& spec = pod["spec"];
  const std::vector<std::string> ours{std::string(kProxyContainer), std::string(kInitContainer)};
  removeNamed(spec, "initContainers", ours);
  removeNamed(spec, "containers", ours);
  removeNamed(spec, "volumes", parts::volumeNames());
  if (pod["metadata"].contains("annotations") && pod["metadata"]["annotations"].is_object()) {
    Json& annotations = pod["metadata"]["annotations"];
    for (auto key : {kInjectedAnnotation, kProbePathsAnnotation, kProxyExitAnnotation}) {
      annotations.erase(std::string(key));
    }
    if (annotations.empty()) {
      pod["metadata"].erase("annotations");
    }
  }
}

// The app's HTTP probes as [{"port":8080,"path":"/healthz"}], sorted and unique,
// so the proxy can let the kubelet's plaintext probes through under STRICT mTLS.
Json probePaths(const Json& spec, std::vector<std::string>& warnings) {
  std::set<std::pair<int, std::string>> found;
  auto scan = [&](const Json& container) {
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (!container.contains(probe) || !container[probe].is_object() ||
          !container[probe].contains("httpGet") || !container[probe]["httpGet"].is_object()) {
        continue;
      }
      const Json& get = container[probe]["httpGet"];
      if (get.contains("scheme") && get["scheme"] != "HTTP") {
        continue;  // HTTPS probes are not plaintext; the proxy cannot tell them apart
      }
      std::string path = get.contains("path") && get["path"].is_string()
                             ? get["path"].get<std::string>()
                             : std::string("/");
      int port = -1;
      if (get.contains("port") && get["port"].is_number_integer()) {
        port = get["port"].get<int>();
      } else if (get.contains("port") && get["port"].is_string()) {
        const std::string named = get["port"].get<std::string>();
        if (container.contains("ports") && container["ports"].is_array()) {
          for (const auto& p : container["ports"]) {
            if (p.is_object() && p.contains("name") && p["name"] == named &&
                p.contains("containerPort") && p["containerPort"].is_number_integer()) {
              port = p["containerPort"].get<int>();
            }
          }
        }
        if (port < 0 && !named.empty() &&
            std::all_of(named.begin(), named.end(),
                        [](char ch) { return ch >= '0' && ch <= '9'; }) &&
            named.size() <= 5) {
          port = std::stoi(named);
        }
      }
      if (port < 1 || port > 65535) {
        warnings.push_back("weft: the " + std::string(probe) + " of container " +
                           container["name"].get<std::string>() +
                           " has a port that names no container port; it is not exempted "
                           "from mTLS");
        continue;
      }
      found.emplace(port, path.empty() ? "/" : path);
    }
  };
  for (const char* list : {"initContainers", "containers"}) {
    if (spec.contains(list) && spec[list].is_array()) {
      for (const auto& c : spec[list]) {
        scan(c);
      }
    }
  }
  Json out = Json::array();
  for (const auto& [port, path] : found) {
    out.push_back(Json{{"port", port}, {"path", path}});
  }
  return out;
}

Decision skipped(const Json& pod, std::string reason, std::string warning = "") {
  Decision d;
  d.outcome = Outcome::kSkipped;
  d.pod = pod;
  d.reason = std::move(reason);
  if (!warning.empty()) {
    d.warnings.push_back(std::move(warning));
  }
  return d;
}

std::string escapeKey(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Like Json::diff, but an array that only gained elements in front (our
// containers) becomes index-0 adds rather than a rewrite of every element, so
// the patch says what injection did.
void diffInto(const Json& source, const Json& target, const std::string& path, Json& patch) {
  if (source == target) {
    return;
  }
  if (source.is_object() && target.is_object()) {
    for (const auto& [key, value] : source.items()) {
      if (!target.contains(key)) {
        patch.push_back(Json{{"op", "remove"}, {"path", path + "/" + escapeKey(key)}});
      } else {
        diffInto(value, target[key], path + "/" + escapeKey(key), patch);
      }
    }
    for (const auto& [key, value] : target.items()) {
      if (!source.contains(key)) {
        patch.push_back(
            Json{{"op", "add"}, {"path", path + "/" + escapeKey(key)}, {"value", value}});
      }
    }
    return;
  }
  if (source.is_array() && target.is_array() && target.size() > source.size()) {
    const std::size_t added = target.size() - source.size();
    if (std::equal(source.begin(), source.end(), target.begin() + static_cast<long>(added))) {
      for (std::size_t i = 0; i < added; ++i) {
        patch.push_back(
            Json{{"op", "add"}, {"path", path + "/" + std::to_string(i)}, {"value", target[i]}});
      }
      return;
    }
    if (std::equal(source.begin(), source.end(), target.begin())) {
      for (std::size_t i = source.size(); i < target.size(); ++i) {
        patch.push_back(Json{{"op", "add"}, {"path", path + "/-"}, {"value", target[i]}});
      }
      return;
    }
  }
  for (auto& op : Json::diff(source, target, path)) {
    patch.push_back(std::move(op));
  }
}

}  // namespace

Options defaultOptions() {
  Options o;
  o.version = kVersion;
  o.proxyImage = std::string("weft:") + kVersion;
  return o;
}

Result<bool> supportsNativeSidecars(std::string_view version) {
  std::string_view s = version;
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    s.remove_prefix(1);
  }
  auto number = [&](std::string_view& rest) -> int {
    int n = -1;
    std::size_t i = 0;
    while (i < rest.size() && i < 6 && rest[i] >= '0' && rest[i] <= '9') {
      n = (n < 0 ? 0 : n * 10) + (rest[i] - '0');
      ++i;
    }
    rest.remove_prefix(i);
    return n;
  };
  int major = number(s);
  if (major < 0 || s.empty() || s.front() != '.') {
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(version) + "' is not a Kubernetes version like v1.29.3");
  }
  s.remove_prefix(1);
  int minor = number(s);
  if (minor < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(version) + "' is not a Kubernetes version like v1.29.3");
  }
  return major > 1 || (major == 1 && minor >= 29);
}

Result<Decision> injectPod(const Json& pod, const PodContext& context, const Options& options) {
  if (auto valid = validatePod(pod); !valid) {
    return valid.error();
  }
  const auto annotations = annotationsOf(pod);
  const Json& spec = pod["spec"];

  std::string ns = context.namespaceName;
  if (ns.empty()) {
    ns = pod.contains("metadata") && pod["metadata"].contains("namespace") &&
                 pod["metadata"]["namespace"].is_string()
             ? pod["metadata"]["namespace"].get<std::string>()
             : "default";
  }
  if (std::find(kSystemNamespaces.begin(), kSystemNamespaces.end(), ns) !=
          kSystemNamespaces.end() ||
      ns == options.weftNamespace) {
    return skipped(pod, "excluded namespace");
  }

  std::vector<std::string> warnings;
  bool wanted = context.assumeOptedIn;
  if (auto it = annotations.find(std::string(kInjectAnnotation)); it != annotations.end()) {
    if (it->second == "disabled") {
      return skipped(pod, "opted out");
    }
    if (it->second == "enabled") {
      wanted = true;
    } else {
      warnings.push_back("weft: annotation weft.io/inject has value \"" + it->second.substr(0, 64) +
                         "\"; accepted: enabled or disabled");
    }
  }
  if (auto it = context.namespaceLabels.find(std::string(kInjectLabel));
      it != context.namespaceLabels.end() && it->second == "enabled") {
    wanted = true;
  }
  if (!wanted) {
    auto d = skipped(pod, "not opted in");
    d.warnings = std::move(warnings);
    return d;
  }
  if (spec.contains("hostNetwork") && spec["hostNetwork"] == true) {
    return skipped(pod, "host network",
                   "weft: the proxy was not injected: hostNetwork pods share the node's network, "
                   "which the redirect would change for every pod on the node");
  }
  for (auto other : kOtherMeshContainers) {
    if (hasContainer(spec, other)) {
      return skipped(pod, "other mesh",
                     "weft: the proxy was not injected: the pod already has the " +
                         std::string(other) + " container of another mesh");
    }
  }
  const bool alreadyInjected = annotations.count(std::string(kInjectedAnnotation)) > 0;
  if (!alreadyInjected) {
    for (auto reserved : {kProxyContainer, kInitContainer}) {
      if (hasContainer(spec, reserved)) {
        return invalid("container name " + std::string(reserved) +
                       " is reserved for Weft's injected proxy; rename the container");
      }
    }
  }
  auto overrides = parseOverrides(annotations);
  if (!overrides) {
    return overrides.error();
  }

  Decision d;
  d.outcome = Outcome::kInjected;
  d.reason = alreadyInjected ? "reinjected" : "injected";
  d.warnings = std::move(warnings);
  d.pod = pod;
  if (!d.pod.contains("metadata") || d.pod["metadata"].is_null()) {
    d.pod["metadata"] = Json::object();
  }
  strip(d.pod);
  Json& out = d.pod["spec"];

  parts::ProxyShape shape;
  shape.native = options.nativeSidecar;
  for (const auto& c : out["containers"]) {
    shape.appContainers.push_back(c["name"].get<std::string>());
  }
  const std::string restartPolicy =
      out.contains("restartPolicy") && out["restartPolicy"].is_string()
          ? out["restartPolicy"].get<std::string>()
          : "Always";
  shape.exitWithApps = !shape.native && restartPolicy != "Always";
  if (out.contains("terminationGracePeriodSeconds") &&
      out["terminationGracePeriodSeconds"].is_number_integer()) {
    shape.terminationGraceSeconds = out["terminationGracePeriodSeconds"].get<long long>();
  }

  Json probes = probePaths(out, d.warnings);
  Json proxy = parts::proxyContainer(options, *overrides, shape);
  Json init = parts::initContainer(options, *overrides);

  Json inits = Json::array();
  if (shape.native) {
    inits.push_back(std::move(proxy));
  }
  inits.push_back(std::move(init));
  if (out.contains("initContainers") && out["initContainers"].is_array()) {
    for (auto& c : out["initContainers"]) {
      inits.push_back(std::move(c));
    }
  }
  out["initContainers"] = std::move(inits);
  if (!shape.native) {
    Json containers = Json::array({std::move(proxy)});
    for (auto& c : out["containers"]) {
      containers.push_back(std::move(c));
    }
    out["containers"] = std::move(containers);
  }
  if (!out.contains("volumes") || !out["volumes"].is_array()) {
    out["volumes"] = Json::array();
  }
  for (auto& v : parts::volumes()) {
    out["volumes"].push_back(std::move(v));
  }

  Json& meta = d.pod["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
    meta["annotations"] = Json::object();
  }
  meta["annotations"][std::string(kInjectedAnnotation)] = options.version;
  if (!probes.empty()) {
    meta["annotations"][std::string(kProbePathsAnnotation)] = json::dump(probes);
  }
  if (shape.exitWithApps) {
    meta["annotations"][std::string(kProxyExitAnnotation)] = "apps-done";
  }
  return d;
}

Result<Json> makePatch(const Json& original, const Json& mutated) {
  try {
    Json patch = Json::array();
    diffInto(original, mutated, "", patch);
    // Self-check with an independent applier: catches an `add` whose parent
    // is missing or any divergence before the API server sees it.
    if (original.patch(patch) != mutated) {
      return makeError(ErrorCode::kInternal, "the JSON patch does not reproduce the mutated pod");
    }
    return patch;
  } catch (const Json::exception& e) {
    return makeError(ErrorCode::kInternal, std::string("building the JSON patch: ") + e.what());
  }
}

}  // namespace weft::webhook::inject
