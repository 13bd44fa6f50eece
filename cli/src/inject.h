// `weftctl inject`: the webhook's injection applied offline to manifests.
#pragma once

#include <iosfwd>
#include <string>

namespace weft::cli {

struct InjectFlags {
  std::string file;         // path, or "-" for standard input
  std::string kubeVersion;  // empty: native sidecars (Kubernetes 1.29+)
  std::string proxyImage;   // empty: this build's image
};

// Reads YAML or JSON (one or more documents), injects every pod template and
// writes YAML to `out`; notes and warnings go to `err`. Returns the exit code;
// on any error nothing is written to `out`.
int runInject(const InjectFlags& flags, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
