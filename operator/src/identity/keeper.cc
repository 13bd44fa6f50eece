// Secrets, ConfigMap and webhook configuration for the operator's certificates.
#include "operator/src/identity/keeper.h"

#include <filesystem>
#include <map>

#include "common/file.h"
#include "common/json/json.h"
#include "common/kube/kube_api.h"
#include "common/log/log.h"
#include "common/strings.h"

namespace weft::op::identity {
namespace {

using Data = std::map<std::string, std::string>;
namespace res = kube::resources;

struct Stored {
  Data data;
  json::Json object;  // as read, for a PUT with its resourceVersion
};

// A Secret's decoded data, or nullopt when it does not exist.
Result<std::optional<Stored>> readSecret(kube::KubeApi& api, const std::string& ns,
                                         const std::string& name) {
  auto obj = api.get(res::secrets(), ns, name);
  if (!obj) {
    if (kube::isNotFound(obj.error())) {
      return std::optional<Stored>();
    }
    return obj.error().context("Secret " + ns + "/" + name);
  }
  Stored s;
  s.object = *obj;
  if (obj->contains("data") && (*obj)["data"].is_object()) {
    for (const auto& [k, v] : (*obj)["data"].items()) {
      auto decoded = v.is_string()
                         ? base64Decode(v.get<std::string>())
                         : Result<std::string>(makeError(ErrorCode::kParse, "not a string"));
      if (!decoded) {
        return makeError(ErrorCode::kInvalidArgument,
                         "Secret " + ns + "/" + name + ": data." + k + " is not base64");
      }
      s.data[k] = std::move(*decoded);
    }
  }
  return std::optional<Stored>(std::move(s));
}

json::Json encode(const Data& data) {
  json::Json out = json::Json::object();
  for (const auto& [k, v] : data) {
    out[k] = base64Encode(v);
  }
  return out;
}

// Creates the Secret, or replaces the data of `existing` (a stale read is a
// conflict: the next sync reads again).
Result<void> writeSecret(kube::KubeApi& api, const std::string& ns, const std::string& name,
                         const Data& data, const std::optional<Stored>& existing) {
  if (existing) {
    json::Json next = existing->object;
    next["data"] = encode(data);
    auto r = api.update(res::secrets(), next);
    return r ? okResult() : Result<void>(r.error().context("update Secret " + ns + "/" + name));
  }
  json::Json obj = {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata",
                     {{"name", name},
                      {"namespace", ns},
                      {"labels", {{"app.kubernetes.io/managed-by", "weft-operator"}}}}},
                    {"type", "kubernetes.io/tls"},
                    {"data", encode(data)}};
  auto r = api.create(res::secrets(), ns, obj);
  return r ? okResult() : Result<void>(r.error().context("create Secret " + ns + "/" + name));
}

CaFiles filesOf(const Data& d) {
  auto get = [&d](const char* k) {
    auto it = d.find(k);
    return it == d.end() ? std::string() : it->second;
  };
  return CaFiles{get("tls.crt"), get("tls.key"), get("ca.crt"), get("root.key")};
}

Data dataOf(const CaFiles& f) {
  Data d{{"tls.crt", f.certPem}, {"tls.key", f.keyPem}, {"ca.crt", f.caPem}};
  if (!f.rootKeyPem.empty()) {
    d["root.key"] = f.rootKeyPem;
  }
  return d;
}

std::string joined(const std::vector<std::string>& pems) {
  std::string out;
  for (const auto& p : pems) {
    out += p;
  }
  return out;
}

Result<void> publishTrustBundle(kube::KubeApi& api, const std::string& ns,
                                const std::vector<std::string>& bundle) {
  std::string text = joined(bundle);
  auto cm = api.get(res::configMaps(), ns, kTrustBundleConfigMap);
  if (!cm && !kube::isNotFound(cm.error())) {
    return cm.error();
  }
  if (!cm) {
    json::Json obj = {{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata",
                       {{"name", kTrustBundleConfigMap},
                        {"namespace", ns},
                        {"labels", {{"app.kubernetes.io/managed-by", "weft-operator"}}}}},
                      {"data", {{"ca-bundle.crt", text}}}};
    auto r = api.create(res::configMaps(), ns, obj);
    return r ? okResult() : Result<void>(r.error());
  }
  if (json::getStringOr(*cm, "/data/ca-bundle.crt", "").valueOr("") == text) {
    return okResult();
  }
  (*cm)["data"]["ca-bundle.crt"] = text;
  auto r = api.update(res::configMaps(), *cm);
  return r ? okResult() : Result<void>(r.error());
}

}  // namespace

Result<IssuerPtr> syncKubeIssuer(kube::KubeApi& api, const std::string& ns, bool leader,
                                 SystemTime now) {
  auto logger = log::get("operator.identity");
  auto stored = readSecret(api, ns, kIssuerSecret);
  if (!stored) {
    return stored.error();
  }
  if (!*stored && !leader) {
    return makeError(ErrorCode::kUnavailable,
                     "Secret " + ns + "/" + kIssuerSecret + " not there yet (the leader makes it)");
  }
  CaFiles files;
  if (!*stored) {
    auto made = createCa(now);
    if (!made) {
      return made.error();
    }
    if (auto w = writeSecret(api, ns, kIssuerSecret, dataOf(*made), std::nullopt); !w) {
      return w.error();
    }
    logger->info("created the mesh root and issuer in Secret {}/{}", ns, kIssuerSecret);
    files = std::move(*made);
  } else {
    files = filesOf((*stored)->data);
    auto cert = tls::parseCert(files.certPem);
    if (leader && cert && !files.rootKeyPem.empty() && dueForRenewal(*cert, now)) {
      auto renewed = renewIssuer(files, now);
      if (!renewed) {
        return renewed.error();
      }
      if (auto w = writeSecret(api, ns, kIssuerSecret, dataOf(*renewed), *stored); !w) {
        return w.error();
      }
      logger->info("renewed the mesh issuer in Secret {}/{} (same root)", ns, kIssuerSecret);
      files = std::move(*renewed);
    }
  }
  auto issuer = loadIssuer(files, now);
  if (!issuer) {
    return issuer.error().context("Secret " + ns + "/" + kIssuerSecret);
  }
  if (leader) {
    if (auto p = publishTrustBundle(api, ns, (*issuer)->trustBundle); !p) {
      return p.error().context("ConfigMap " + ns + "/" + kTrustBundleConfigMap);
    }
  }
  return issuer;
}

Result<IssuerPtr> syncDirIssuer(const std::string& dir, SystemTime now) {
  namespace fs = std::filesystem;
  auto path = [&dir](const char* f) { return (fs::path(dir) / f).string(); };
  std::error_code ec;
  CaFiles files;
  bool exists = fs::exists(path("tls.crt"), ec);
  if (exists) {
    for (auto [name, out] :
         {std::pair{"tls.crt", &files.certPem}, std::pair{"tls.key", &files.keyPem},
          std::pair{"ca.crt", &files.caPem}}) {
      auto text = readFile(path(name), 1 << 20);
      if (!text) {
        return text.error().context("--issuer-dir");
      }
      *out = std::move(*text);
    }
    if (fs::exists(path("root.key"), ec)) {
      auto text = readFile(path("root.key"), 1 << 20);
      if (!text) {
        return text.error().context("--issuer-dir");
      }
      files.rootKeyPem = std::move(*text);
    }
  }
  bool write = false;
  if (!exists) {
    auto made = createCa(now);
    if (!made) {
      return made.error();
    }
    files = std::move(*made);
    write = true;
  } else if (auto cert = tls::parseCert(files.certPem);
             cert && !files.rootKeyPem.empty() && dueForRenewal(*cert, now)) {
    auto renewed = renewIssuer(files, now);
    if (!renewed) {
      return renewed.error();
    }
    files = std::move(*renewed);
    write = true;
  }
  if (write) {
    fs::create_directories(dir, ec);
    for (auto [name, text] :
         {std::pair{"tls.key", &files.keyPem}, std::pair{"root.key", &files.rootKeyPem},
          std::pair{"ca.crt", &files.caPem}, std::pair{"tls.crt", &files.certPem}}) {
      if (auto w = writeFileAtomic(path(name), *text); !w) {
        return w.error().context("--issuer-dir");
      }
      fs::permissions(path(name), fs::perms::owner_read | fs::perms::owner_write, ec);
    }
  }
  auto issuer = loadIssuer(files, now);
  if (!issuer) {
    return issuer.error().context("--issuer-dir " + dir);
  }
  return issuer;
}

// The webhook has its own CA, apart from the mesh root: the API server must
// trust it for exactly one Service, a user-provided mesh root usually comes
// without its key (so it could not sign this), and rotating the mesh's trust
// anchor must not touch admission.
Result<SystemTime> syncInjectorCerts(kube::KubeApi& api, const std::string& ns, SystemTime now) {
  auto logger = log::get("operator.identity");
  auto caStored = readSecret(api, ns, kInjectorCaSecret);
  if (!caStored) {
    return caStored.error();
  }
  Data ca = *caStored ? (*caStored)->data : Data{};
  auto caCert = tls::parseCert(ca["tls.crt"]);
  if (!*caStored || !caCert || dueForRenewal(*caCert, now)) {
    auto made = createSelfSignedCa("weft-injector-ca", now);
    if (!made) {
      return made.error();
    }
    // Old and new CA both trusted until the old one expires: no admission
    // call fails while the serving certificate moves to the new CA.
    std::vector<std::string> bundle{made->certPem};
    if (auto old = validRoots(ca["ca.crt"], now)) {
      for (auto& pem : *old) {
        if (pem != made->certPem) {
          bundle.push_back(std::move(pem));
        }
      }
    }
    Data next{{"tls.crt", made->certPem}, {"tls.key", made->keyPem}, {"ca.crt", joined(bundle)}};
    if (auto w = writeSecret(api, ns, kInjectorCaSecret, next, *caStored); !w) {
      return w.error();
    }
    logger->info("{} the injector's webhook CA in Secret {}/{}", *caStored ? "rotated" : "created",
                 ns, kInjectorCaSecret);
    ca = std::move(next);
  }
  auto bundle = validRoots(ca["ca.crt"], now);
  std::string bundlePem = bundle ? joined(*bundle) : ca["tls.crt"];
  auto signer = tls::parseCert(ca["tls.crt"]);
  if (!signer) {
    return signer.error().context("Secret " + ns + "/" + kInjectorCaSecret);
  }

  auto leafStored = readSecret(api, ns, kInjectorTlsSecret);
  if (!leafStored) {
    return leafStored.error();
  }
  Data leaf = *leafStored ? (*leafStored)->data : Data{};
  auto leafCert = tls::parseCert(leaf["tls.crt"]);
  std::vector<tls::Cert> roots;
  roots.push_back(std::move(*signer));
  bool fresh = leafCert && !dueForRenewal(*leafCert, now) &&
               tls::verifyChain(*leafCert, {}, roots, now).ok() && leaf["ca.crt"] == bundlePem;
  if (!fresh) {
    std::vector<std::string> names{std::string(kInjectorService) + "." + ns + ".svc",
                                   std::string(kInjectorService) + "." + ns + ".svc.cluster.local"};
    auto issued = issueServing(names, KeyPair{ca["tls.crt"], ca["tls.key"]}, now);
    if (!issued) {
      return issued.error();
    }
    leaf = Data{{"tls.crt", issued->certPem}, {"tls.key", issued->keyPem}, {"ca.crt", bundlePem}};
    if (auto w = writeSecret(api, ns, kInjectorTlsSecret, leaf, *leafStored); !w) {
      return w.error();
    }
    logger->info("issued the injector's serving certificate in Secret {}/{}", ns,
                 kInjectorTlsSecret);
    leafCert = tls::parseCert(leaf["tls.crt"]);
    if (!leafCert) {
      return leafCert.error();
    }
  }

  // The webhook configuration comes with the chart; patch what differs.
  auto hook = api.get(res::mutatingWebhookConfigurations(), "", kInjectorWebhook);
  if (!hook) {
    if (kube::isNotFound(hook.error())) {
      logger->debug("MutatingWebhookConfiguration {} not found: no caBundle to patch",
                    kInjectorWebhook);
      return tls::notAfter(*leafCert);
    }
    return hook.error();
  }
  std::string encoded = base64Encode(bundlePem);
  json::Json ops = json::Json::array();
  if (hook->contains("webhooks") && (*hook)["webhooks"].is_array()) {
    const auto& hooks = (*hook)["webhooks"];
    for (std::size_t i = 0; i < hooks.size(); ++i) {
      if (json::getStringOr(hooks[i], "/clientConfig/caBundle", "").valueOr("") == encoded) {
        continue;
      }
      std::string base = "/webhooks/" + std::to_string(i);
      // `test` first: a webhook list reordered since the read fails the patch.
      ops.push_back(
          {{"op", "test"}, {"path", base + "/name"}, {"value", hooks[i].value("name", "")}});
      if (!hooks[i].contains("clientConfig")) {
        ops.push_back(
            {{"op", "add"}, {"path", base + "/clientConfig"}, {"value", json::Json::object()}});
      }
      ops.push_back({{"op", "add"}, {"path", base + "/clientConfig/caBundle"}, {"value", encoded}});
    }
  }
  if (!ops.empty()) {
    auto r = api.patch(res::mutatingWebhookConfigurations(), "", kInjectorWebhook,
                       kube::PatchType::kJson, ops);
    if (!r) {
      return r.error().context("patch MutatingWebhookConfiguration " +
                               std::string(kInjectorWebhook));
    }
    logger->info("patched the caBundle of MutatingWebhookConfiguration {}", kInjectorWebhook);
  }
  return tls::notAfter(*leafCert);
}

}  // namespace weft::op::identity
