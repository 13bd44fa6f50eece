// Where the API server is and how to authenticate: from inside a pod
// (service-account token, CA, KUBERNETES_SERVICE_HOST/PORT) or from a
// kubeconfig file (current context).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace weft::kube {

struct KubeConfig {
  std::string server;         // "https://10.0.0.1:443"
  std::string token;          // a static bearer token
  std::string tokenFile;      // re-read when it changes (projected tokens rotate)
  std::string caPem;          // trusted CA certificates; empty = the system's
  std::string clientCertPem;  // client certificate chain + key (mTLS auth)
  std::string clientKeyPem;
  bool insecureSkipTlsVerify = false;
  std::string defaultNamespace = "default";
};

// Files and variables read in-cluster; overridable for tests.
struct InClusterPaths {
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string host;  // empty: $KUBERNETES_SERVICE_HOST
  std::string port;  // empty: $KUBERNETES_SERVICE_PORT
};

Result<KubeConfig> loadInCluster(const InClusterPaths& paths = {});

// The current-context (or `context`) of a kubeconfig. Relative file paths are
// resolved against the kubeconfig's folder; *-data fields are base64.
Result<KubeConfig> loadKubeconfig(const std::string& path, const std::string& context = "");
Result<KubeConfig> parseKubeconfig(std::string_view yaml, const std::string& baseDir,
                                   const std::string& context = "");

// What a binary's --kubeconfig means: that file when given, else in-cluster.
Result<KubeConfig> loadConfig(const std::string& kubeconfigPath);

// The bearer token to send now: the static one, or the token file re-read
// whenever its modification time or size changes. Thread-safe.
class BearerToken {
 public:
  explicit BearerToken(const KubeConfig& config);
  // Empty when there is none; an unreadable file keeps the last good token.
  std::string get();

 private:
  std::mutex mu_;
  std::string file_;
  std::string token_;
  std::int64_t mtimeNs_ = -1;
  std::int64_t size_ = -1;
};

}  // namespace weft::kube
