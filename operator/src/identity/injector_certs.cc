// The injector's webhook CA, serving certificate and caBundle.
#include "common/kube/kube_api.h"
#include "common/log/log.h"
#include "common/strings.h"
#include "operator/src/identity/keeper.h"
#include "operator/src/identity/secrets.h"

namespace weft::op::identity {

namespace res = kube::resources;

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
