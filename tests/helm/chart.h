// The chart as the tests see it: `helm template` run for real (the binary
// scripts/install-tools.sh installs), its output parsed into objects.
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::test::helm {

using json::Json;

// The helm binary: $WEFT_HELM, else .tools/bin/helm of the source tree.
std::string helmBinary();

struct HelmRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};
// Runs helm with these arguments (the chart is WEFT_SOURCE_DIR/helm/weft).
HelmRun runHelm(const std::vector<std::string>& args);

// `helm template weft helm/weft -n NS ARGS...`: every object rendered, hooks
// included; an error when helm fails or prints something that is not YAML.
Result<std::vector<Json>> render(const std::vector<std::string>& args = {},
                                 const std::string& ns = "weft-system");

// The object of this kind and name (nullptr when absent).
const Json* find(const std::vector<Json>& objects, const std::string& kind,
                 const std::string& name);
std::vector<const Json*> ofKind(const std::vector<Json>& objects, const std::string& kind);
// True for helm hooks (`helm test` objects), which `helm install` does not create.
bool isHook(const Json& object);

// A file of the source tree, relative to its root.
std::string sourcePath(const std::string& relative);

}  // namespace weft::test::helm
