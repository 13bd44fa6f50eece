// Pure injection: a Pod (or pod template) plus options in, the meshed pod out.
// No I/O: the namespace's labels and the cluster version are inputs. Shared by
// the admission webhook and `weftctl inject`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::webhook::inject {

inline constexpr std::string_view kInjectAnnotation = "weft.io/inject";
inline constexpr std::string_view kInjectLabel = "weft.io/inject";
inline constexpr std::string_view kInjectedAnnotation = "weft.io/injected";
inline constexpr std::string_view kProbePathsAnnotation = "weft.io/probe-paths";
inline constexpr std::string_view kProxyExitAnnotation = "weft.io/proxy-exit";
inline constexpr std::string_view kProxyContainer = "weft-proxy";
inline constexpr std::string_view kInitContainer = "weft-init";
inline constexpr int kProxyUid = 2102;
inline constexpr int kAdminPort = 15100;
inline constexpr int kOutboundPort = 15101;
inline constexpr int kInboundPort = 15106;

struct Resources {
  std::string cpuRequest = "100m";
  std::string memoryRequest = "64Mi";
  std::string cpuLimit;  // empty: none (CPU limits throttle latency-sensitive proxies)
  std::string memoryLimit = "256Mi";
};

struct Options {
  std::string version;  // value of weft.io/injected
  std::string proxyImage;
  std::string imagePullPolicy = "IfNotPresent";
  std::string controlPlane = "weft-control.weft-system.svc:8443";
  std::string weftNamespace = "weft-system";  // never injected
  bool nativeSidecar = true;                  // cluster >= 1.29
  std::string logLevel = "info";
  Resources resources;
  // PEM roots for the proxy's env WEFT_TRUST_ANCHORS (it verifies the control
  // plane with them); empty: not set (weftctl inject, local runs).
  std::string trustAnchors;
};

// Options with the built-in defaults (version and image from this build).
Options defaultOptions();

// True when a server version string ("v1.29.3", "v1.30.1-eks-1", "1.29+")
// supports native sidecars (restartPolicy: Always on init containers, 1.29+).
Result<bool> supportsNativeSidecars(std::string_view serverVersion);

enum class Outcome {
  kInjected,  // pod carries our parts (it may be unchanged if it already did)
  kSkipped,   // not opted in, or not injectable: pod unchanged
};

struct Decision {
  Outcome outcome = Outcome::kSkipped;
  json::Json pod;                     // the result (a copy of the input when skipped)
  std::string reason;                 // why, for logs and metrics labels
  std::vector<std::string> warnings;  // for the user (admission warnings, CLI stderr)
};

struct PodContext {
  std::string namespaceName;  // where the pod is created
  std::map<std::string, std::string> namespaceLabels;
  bool assumeOptedIn = false;  // weftctl inject: the user asked explicitly
};

// Decides and injects. An error (kInvalidArgument) means the pod must be
// refused: a bad override annotation or a malformed pod; its message names
// the annotation or field and the accepted form. Idempotent: injecting the
// result again yields an equal pod.
Result<Decision> injectPod(const json::Json& pod, const PodContext& context,
                           const Options& options);

// RFC 6902 patch turning `original` into `mutated`; verified to apply (every
// `add` has its parent) and to yield exactly `mutated`.
Result<json::Json> makePatch(const json::Json& original, const json::Json& mutated);

}  // namespace weft::webhook::inject
