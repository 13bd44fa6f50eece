// The injected weft-proxy and weft-init containers and their volumes.
#include "webhook/src/inject/parts.h"

#include <algorithm>

namespace weft::webhook::inject::parts {
namespace {

using json::Json;

Json fieldEnv(const char* name, const char* fieldPath) {
  return Json{{"name", name},
              {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", fieldPath}}}}}};
}

Json httpProbe(const char* path, int periodSeconds, int failureThreshold) {
  return Json{{"httpGet", {{"path", path}, {"port", kAdminPort}, {"scheme", "HTTP"}}},
              {"timeoutSeconds", 1},
              {"periodSeconds", periodSeconds},
              {"successThreshold", 1},
              {"failureThreshold", failureThreshold}};
}

// Requests and limits from defaults and overrides. A request above the default
// limit raises the limit (and a limit below the default request lowers the
// request) instead of producing a pod the API server would refuse; explicit
// request > limit was already refused by parseOverrides.
Json resources(const Resources& defaults, const Overrides& o) {
  auto pick = [](const std::optional<Quantity>& request, const std::string& defaultRequest,
                 const std::optional<Quantity>& limit, const std::string& defaultLimit) {
    std::string req = request ? request->text : defaultRequest;
    std::string lim = limit ? limit->text : defaultLimit;
    auto reqValue = parseQuantity(req);
    auto limValue = parseQuantity(lim);
    if (!lim.empty() && reqValue && limValue && reqValue->value > limValue->value) {
      if (request) {
        lim = req;
      } else {
        req = lim;
      }
    }
    return std::pair{req, lim};
  };
  auto [cpuReq, cpuLim] = pick(o.cpuRequest, defaults.cpuRequest, o.cpuLimit, defaults.cpuLimit);
  auto [memReq, memLim] =
      pick(o.memoryRequest, defaults.memoryRequest, o.memoryLimit, defaults.memoryLimit);
  Json out = Json::object();
  auto set = [&](const char* section, const char* key, const std::string& value) {
    if (!value.empty()) {
      out[section][key] = value;
    }
  };
  set("requests", "cpu", cpuReq);
  set("requests", "memory", memReq);
  set("limits", "cpu", cpuLim);
  set("limits", "memory", memLim);
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& volumeNames() {
  static const std::vector<std::string> kNames{std::string(kTokenVolume),
                                               std::string(kInitRunVolume)};
  return kNames;
}

Json proxyContainer(const Options& options, const Overrides& overrides, const ProxyShape& shape) {
  Json env = Json::array(
      {fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace"),
       fieldEnv("POD_IP", "status.podIP"), fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
       Json{{"name", "WEFT_IDENTITY_TOKEN_FILE"},
            {"value", std::string(kTokenMountPath) + "/token"}}});
  if (!options.trustAnchors.empty()) {
    env.push_back(Json{{"name", "WEFT_TRUST_ANCHORS"}, {"value", options.trustAnchors}});
  }
  if (shape.exitWithApps) {
    // The proxy leaves once these containers have terminated (see weft.io/proxy-exit).
    env.push_back(Json{{"name", "WEFT_APP_CONTAINERS"}, {"value", join(shape.appContainers)}});
  }
  Json c{
      {"name", kProxyContainer},
      {"image", options.proxyImage},
      {"imagePullPolicy", options.imagePullPolicy},
      {"args", Json::array({"--control-plane", options.controlPlane, "--admin-listen",
                            "0.0.0.0:" + std::to_string(kAdminPort), "--log-level",
                            overrides.logLevel.value_or(options.logLevel)})},
      {"ports", Json::array({Json{
                    {"name", "weft-admin"}, {"containerPort", kAdminPort}, {"protocol", "TCP"}}})},
      {"env", env},
      {"resources", resources(options.resources, overrides)},
      {"readinessProbe", httpProbe("/ready", 2, 3)},
      {"livenessProbe", httpProbe("/live", 10, 3)},
      {"securityContext",
       {{"runAsUser", kProxyUid},
        {"runAsGroup", kProxyUid},
        {"runAsNonRoot", true},
        {"readOnlyRootFilesystem", true},
        {"allowPrivilegeEscalation", false},
        {"privileged", false},
        {"capabilities", {{"drop", Json::array({"ALL"})}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"volumeMounts",
       Json::array(
           {Json{{"name", kTokenVolume}, {"mountPath", kTokenMountPath}, {"readOnly", true}}})},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
  if (shape.native) {
    // Native sidecar: the kubelet starts the app only after the startup probe
    // passes, stops the proxy after the app, and ignores it for Job completion.
    c["restartPolicy"] = "Always";
    c["startupProbe"] = httpProbe("/ready", 1, 300);
  } else {
    // First container: the kubelet runs postStart to completion before starting
    // the next container, so the app starts after the proxy is ready.
    long long drainSeconds = std::max(1LL, shape.terminationGraceSeconds - 5);
    c["lifecycle"] =
        Json{{"postStart",
              {{"exec", {{"command", Json::array({kProxyBinary, "wait", "--timeout", "300s"})}}}}},
             {"preStop",
              {{"exec",
                {{"command", Json::array({kProxyBinary, "drain", "--timeout",
                                          std::to_string(drainSeconds) + "s"})}}}}}};
  }
  return c;
}

Json initContainer(const Options& options, const Overrides& overrides) {
  std::string skipInbound = std::to_string(kAdminPort);  // kubelet reaches the admin port directly
  if (!overrides.skipInboundPorts.empty()) {
    skipInbound += "," + overrides.skipInboundPorts;
  }
  Json args = Json::array({"init", "--proxy-uid", std::to_string(kProxyUid), "--inbound-port",
                           std::to_string(kInboundPort), "--outbound-port",
                           std::to_string(kOutboundPort), "--skip-inbound-ports", skipInbound});
  if (!overrides.skipOutboundPorts.empty()) {
    args.push_back("--skip-outbound-ports");
    args.push_back(overrides.skipOutboundPorts);
  }
  if (!overrides.skipOutboundCidrs.empty()) {
    args.push_back("--skip-outbound-cidrs");
    args.push_back(overrides.skipOutboundCidrs);
  }
  args.push_back("--log-level");
  args.push_back(overrides.logLevel.value_or(options.logLevel));
  return Json{
      {"name", kInitContainer},
      {"image", options.proxyImage},
      {"imagePullPolicy", options.imagePullPolicy},
      {"args", args},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"memory", "64Mi"}}}}},
      // Root is needed for iptables, but nothing beyond the two capabilities:
      // the same shape as istio-init and linkerd-init.
      {"securityContext",
       {{"runAsUser", 0},
        {"runAsGroup", 0},
        {"runAsNonRoot", false},
        {"privileged", false},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities",
         {{"add", Json::array({"NET_ADMIN", "NET_RAW"})}, {"drop", Json::array({"ALL"})}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      // iptables takes its lock in /run, which a read-only root cannot provide.
      {"volumeMounts", Json::array({Json{{"name", kInitRunVolume}, {"mountPath", "/run"}}})},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
}

std::vector<Json> volumes() {
  return {
      Json{{"name", kTokenVolume},
           {"projected",
            {{"sources", Json::array({Json{{"serviceAccountToken",
                                            {{"audience", kTokenAudience},
                                             {"expirationSeconds", 3600},
                                             {"path", "token"}}}}})},
             {"defaultMode", 420}}}},
      Json{{"name", kInitRunVolume}, {"emptyDir", Json::object()}},
  };
}

}  // namespace weft::webhook::inject::parts
