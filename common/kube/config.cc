// In-cluster and kubeconfig loading; the rotating bearer token.
#include "common/kube/config.h"

#include <cstdlib>
#include <filesystem>

#include <sys/stat.h>

#include "common/file.h"
#include "common/json/json.h"
#include "common/strings.h"
#include "common/yaml/yaml.h"

namespace weft::kube {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

std::string resolvePath(const std::string& baseDir, const std::string& path) {
  if (path.empty() || path.front() == '/' || baseDir.empty()) {
    return path;
  }
  return (std::filesystem::path(baseDir) / path).string();
}

// Reads "<field>-data" (base64) or "<field>" (a file) from a kubeconfig map.
Result<std::string> dataOrFile(const json::Json& map, const std::string& field,
                               const std::string& baseDir) {
  auto data = json::getStringOr(map, "/" + field + "-data", "");
  if (!data.ok()) {
    return data.error();
  }
  if (!data->empty()) {
    auto decoded = base64Decode(*data);
    if (!decoded.ok()) {
      return decoded.error().context(field + "-data");
    }
    return decoded;
  }
  auto file = json::getStringOr(map, "/" + field, "");
  if (!file.ok()) {
    return file.error();
  }
  if (file->empty()) {
    return std::string();
  }
  auto content = readFile(resolvePath(baseDir, *file), 1 << 20);
  if (!content.ok()) {
    return content.error().context(field);
  }
  return content;
}

// The `what` entry named `name` in the list `listName` ("clusters", ...).
Result<json::Json> findNamed(const json::Json& doc, const std::string& listName,
                             const std::string& what, const std::string& name) {
  if (!doc.contains(listName) || !doc[listName].is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "kubeconfig has no " + listName);
  }
  for (const auto& entry : doc[listName]) {
    if (entry.is_object() && entry.value("name", "") == name && entry.contains(what) &&
        entry[what].is_object()) {
      return entry[what];
    }
  }
  return makeError(ErrorCode::kNotFound, "kubeconfig: no " + what + " named \"" + name + "\"");
}

}  // namespace

Result<KubeConfig> loadInCluster(const InClusterPaths& paths) {
  std::string host = paths.host;
  std::string port = paths.port;
  if (host.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    host = h ? h : "";
  }
  if (port.empty()) {
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    port = p ? p : "";
  }
  if (host.empty() || port.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig config;
  // An IPv6 service address needs brackets in a URL.
  if (host.find(':') != std::string::npos && host.front() != '[') {
    host = "[" + host + "]";
  }
  config.server = "https://" + host + ":" + port;
  config.tokenFile = paths.dir + "/token";
  auto token = readFile(config.tokenFile, 1 << 20);
  if (!token.ok()) {
    return token.error().context("service-account token");
  }
  config.token = trim(*token);
  auto ca = readFile(paths.dir + "/ca.crt", 1 << 20);
  if (!ca.ok()) {
    return ca.error().context("service-account CA");
  }
  config.caPem = *ca;
  auto ns = readFile(paths.dir + "/namespace", 4096);
  if (ns.ok() && !trim(*ns).empty()) {
    config.defaultNamespace = trim(*ns);
  }
  return config;
}

Result<KubeConfig> parseKubeconfig(std::string_view yamlText, const std::string& baseDir,
                                   const std::string& contextName) {
  auto doc = yaml::parseOne(yamlText);
  if (!doc.ok()) {
    return doc.error().context("kubeconfig");
  }
  if (!doc->is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "kubeconfig: not a mapping");
  }
  std::string ctxName = contextName;
  if (ctxName.empty()) {
    ctxName = doc->value("current-context", "");
  }
  if (ctxName.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "kubeconfig: no current-context");
  }
  auto context = findNamed(*doc, "contexts", "context", ctxName);
  if (!context.ok()) {
    return context.error();
  }
  auto cluster = findNamed(*doc, "clusters", "cluster", context->value("cluster", ""));
  if (!cluster.ok()) {
    return cluster.error();
  }
  KubeConfig config;
  config.defaultNamespace = context->value("namespace", "default");
  auto server = json::getString(*cluster, "/server");
  if (!server.ok()) {
    return server.error().context("kubeconfig cluster");
  }
  config.server = *server;
  while (!config.server.empty() && config.server.back() == '/') {
    config.server.pop_back();
  }
  auto insecure = json::getBoolOr(*cluster, "/insecure-skip-tls-verify", false);
  if (!insecure.ok()) {
    return insecure.error().context("kubeconfig cluster");
  }
  config.insecureSkipTlsVerify = *insecure;
  auto ca = dataOrFile(*cluster, "certificate-authority", baseDir);
  if (!ca.ok()) {
    return ca.error().context("kubeconfig cluster");
  }
  config.caPem = *ca;

  std::string userName = context->value("user", "");
  if (!userName.empty()) {
    auto user = findNamed(*doc, "users", "user", userName);
    if (!user.ok()) {
      return user.error();
    }
    auto token = json::getStringOr(*user, "/token", "");
    if (!token.ok()) {
      return token.error().context("kubeconfig user");
    }
    config.token = *token;
    auto tokenFile = json::getStringOr(*user, "/tokenFile", "");
    if (tokenFile.ok() && !tokenFile->empty()) {
      config.tokenFile = resolvePath(baseDir, *tokenFile);
    }
    auto cert = dataOrFile(*user, "client-certificate", baseDir);
    if (!cert.ok()) {
      return cert.error().context("kubeconfig user");
    }
    auto key = dataOrFile(*user, "client-key", baseDir);
    if (!key.ok()) {
      return key.error().context("kubeconfig user");
    }
    if (cert->empty() != key->empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "kubeconfig user: client certificate and key go together");
    }
    config.clientCertPem = *cert;
    config.clientKeyPem = *key;
  }
  return config;
}

Result<KubeConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  auto text = readFile(path, 4 << 20);
  if (!text.ok()) {
    return text.error();
  }
  auto config = parseKubeconfig(*text, std::filesystem::path(path).parent_path().string(), context);
  if (!config.ok()) {
    return config.error().context(path);
  }
  return config;
}

Result<KubeConfig> loadConfig(const std::string& kubeconfigPath) {
  if (!kubeconfigPath.empty()) {
    return loadKubeconfig(kubeconfigPath);
  }
  return loadInCluster();
}

BearerToken::BearerToken(const KubeConfig& config)
    : file_(config.tokenFile), token_(config.token) {}

std::string BearerToken::get() {
  std::lock_guard lock(mu_);
  if (file_.empty()) {
    return token_;
  }
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) {
    return token_;
  }
  std::int64_t mtime =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime == mtimeNs_ && st.st_size == size_) {
    return token_;
  }
  auto content = readFile(file_, 1 << 20);
  if (content.ok() && !trim(*content).empty()) {
    token_ = trim(*content);
    mtimeNs_ = mtime;
    size_ = st.st_size;
  }
  return token_;
}

}  // namespace weft::kube
