// The mesh issuer: Secret weft-identity-issuer or --issuer-dir, and the
// trust bundle ConfigMap.
#include "operator/src/identity/keeper.h"

#include <filesystem>

#include "common/file.h"
#include "common/kube/kube_api.h"
#include "common/log/log.h"
#include "operator/src/identity/secrets.h"

namespace weft::op::identity {
namespace {

namespace res = kube::resources;

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

// ca-bundle.crt for proxies; issuer.crt so that `weftctl check` can see the
// issuer's expiry without reading the Secret that holds its key.
Result<void> publishTrustBundle(kube::KubeApi& api, const std::string& ns,
                                const std::vector<std::string>& bundle,
                                const std::string& issuerPem) {
  std::string text = joined(bundle);
  auto chain = tls::certificatesOnly(issuerPem);
  if (!chain) {
    return chain.error().context("issuer certificate");
  }
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
                      {"data", {{"ca-bundle.crt", text}, {"issuer.crt", *chain}}}};
    auto r = api.create(res::configMaps(), ns, obj);
    return r ? okResult() : Result<void>(r.error());
  }
  if (json::getStringOr(*cm, "/data/ca-bundle.crt", "").valueOr("") == text &&
      json::getStringOr(*cm, "/data/issuer.crt", "").valueOr("") == *chain) {
    return okResult();
  }
  (*cm)["data"]["ca-bundle.crt"] = text;
  (*cm)["data"]["issuer.crt"] = *chain;
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
    if (leader && cert && dueForRenewal(*cert, now) && !ownsIssuer(files)) {
      logger->warn(
          "the issuer in Secret {}/{} is past 2/3 of its life and is its owner's to "
          "renew (no root.key for the root that signed it)",
          ns, kIssuerSecret);
    }
    if (leader && cert && ownsIssuer(files) && dueForRenewal(*cert, now)) {
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
    if (auto p = publishTrustBundle(api, ns, (*issuer)->trustBundle, (*issuer)->certPem); !p) {
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
             cert && ownsIssuer(files) && dueForRenewal(*cert, now)) {
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

}  // namespace weft::op::identity
