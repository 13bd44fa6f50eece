// weftctl proxy-config: a proxy's /config (its listeners, identity, trust
// bundle fingerprints and current documents), pretty-printed.
#pragma once

#include <iosfwd>
#include <string>

namespace weft::cli {

struct ProxyConfigFlags {
  std::string target;  // HOST:PORT of the admin port, or NAMESPACE/POD
  std::string kubeconfig;
  std::string timeout = "2s";
};

// HOST:PORT is fetched directly; NAMESPACE/POD through the API server's pod
// proxy (port 15100), which needs `get` on pods/proxy. Returns 0, 1 when the
// proxy or the API server failed, 2 for bad flags.
int runProxyConfig(const ProxyConfigFlags& flags, std::ostream& out, std::ostream& err);

}  // namespace weft::cli
