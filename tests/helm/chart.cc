// Running helm and reading what it renders.
#include "tests/helm/chart.h"

#include <cstdlib>

#include "common/yaml/yaml.h"
#include "tests/support/process.h"

namespace weft::test::helm {

std::string sourcePath(const std::string& relative) {
  return std::string(WEFT_SOURCE_DIR) + "/" + relative;
}

std::string helmBinary() {
  const char* env = std::getenv("WEFT_HELM");
  return env && *env ? std::string(env) : sourcePath(".tools/bin/helm");
}

HelmRun runHelm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{helmBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = weft::testing::runProcess(argv, "", std::chrono::seconds(60));
  return HelmRun{r.exitCode, r.out, r.err};
}

Result<std::vector<Json>> render(const std::vector<std::string>& args, const std::string& ns) {
  std::vector<std::string> full{"template", "weft", sourcePath("helm/weft"), "--namespace", ns};
  full.insert(full.end(), args.begin(), args.end());
  HelmRun run = runHelm(full);
  if (run.exitCode != 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "helm template failed (" + std::to_string(run.exitCode) + "): " + run.err +
                         (run.exitCode == -1 ? " (is helm at " + helmBinary() +
                                                   "? scripts/install-tools.sh installs it)"
                                             : ""));
  }
  auto docs = yaml::parseAll(run.out);
  if (!docs) {
    return docs.error().context("helm template output");
  }
  std::vector<Json> out;
  for (auto& doc : *docs) {
    if (doc.is_object()) {
      out.push_back(std::move(doc));
    }
  }
  return out;
}

const Json* find(const std::vector<Json>& objects, const std::string& kind,
                 const std::string& name) {
  for (const auto& o : objects) {
    if (o.value("kind", "") == kind && o.contains("metadata") &&
        o["metadata"].value("name", "") == name) {
      return &o;
    }
  }
  return nullptr;
}

std::vector<const Json*> ofKind(const std::vector<Json>& objects, const std::string& kind) {
  std::vector<const Json*> out;
  for (const auto& o : objects) {
    if (o.value("kind", "") == kind) {
      out.push_back(&o);
    }
  }
  return out;
}

bool isHook(const Json& object) {
  return object.contains("metadata") && object["metadata"].contains("annotations") &&
         object["metadata"]["annotations"].contains("helm.sh/hook");
}

}  // namespace weft::test::helm
