// weftctl inject: parse the stream, inject each object, write YAML back.
#include "cli/src/inject.h"

#include <iostream>
#include <iterator>
#include <sstream>

#include "common/file.h"
#include "common/yaml/yaml.h"
#include "webhook/src/inject/inject.h"
#include "webhook/src/inject/workload.h"

namespace weft::cli {
namespace {

constexpr std::size_t kMaxInputBytes = 64u << 20;

Result<std::string> readInput(const std::string& file, std::istream& in) {
  if (file != "-") {
    return readFile(file, kMaxInputBytes);
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxInputBytes) {
      return makeError(ErrorCode::kInvalidArgument, "standard input is larger than 64 MiB");
    }
  }
  return text;
}

}  // namespace

int runInject(const InjectFlags& flags, std::istream& in, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "weftctl: error: " << message << "\n";
    return 1;
  };
  webhook::inject::Options options = webhook::inject::defaultOptions();
  if (!flags.proxyImage.empty()) {
    options.proxyImage = flags.proxyImage;
  }
  if (!flags.kubeVersion.empty()) {
    auto native = webhook::inject::supportsNativeSidecars(flags.kubeVersion);
    if (!native) {
      return fail("--kube-version: " + native.error().message);
    }
    options.nativeSidecar = *native;
  }
  const std::string source = flags.file == "-" ? "<stdin>" : flags.file;
  auto text = readInput(flags.file, in);
  if (!text) {
    return fail(text.error().message);
  }
  auto documents = yaml::parseAll(*text);
  if (!documents) {
    return fail(source + ": " + documents.error().message);
  }
  webhook::inject::WorkloadReport report;
  for (std::size_t i = 0; i < documents->size(); ++i) {
    auto r = webhook::inject::injectObject((*documents)[i], options, report);
    if (!r) {
      return fail(source + ": document " + std::to_string(i + 1) + ": " + r.error().message);
    }
  }
  out << yaml::dumpAll(*documents);
  for (const auto& message : report.messages) {
    err << "weftctl: " << message << "\n";
  }
  err << "weftctl: injected " << report.injected << " pod template(s), skipped " << report.skipped
      << "\n";
  return 0;
}

}  // namespace weft::cli
