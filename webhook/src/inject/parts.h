// Internal to inject/: builds the containers and volumes that injection adds,
// written out with the API server's defaults so that re-injecting a stored pod
// yields an identical object.
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"
#include "webhook/src/inject/inject.h"
#include "webhook/src/inject/overrides.h"

namespace weft::webhook::inject::parts {

inline constexpr std::string_view kTokenVolume = "weft-identity-token";
inline constexpr std::string_view kInitRunVolume = "weft-init-run";
inline constexpr std::string_view kTokenMountPath = "/var/run/secrets/weft.io/identity";
inline constexpr std::string_view kTokenAudience = "weft.io/identity";
inline constexpr std::string_view kProxyBinary = "/usr/local/bin/weft-proxy";

// Names of every volume injection adds (stripped before re-injection).
const std::vector<std::string>& volumeNames();

struct ProxyShape {
  bool native = true;         // init container with restartPolicy: Always
  bool exitWithApps = false;  // run-to-completion pod without native sidecars
  std::vector<std::string> appContainers;
  long long terminationGraceSeconds = 30;
};

json::Json proxyContainer(const Options& options, const Overrides& overrides,
                          const ProxyShape& shape);
json::Json initContainer(const Options& options, const Overrides& overrides);
std::vector<json::Json> volumes();

}  // namespace weft::webhook::inject::parts
