// Checks of the injector's webhook: its configuration and caBundle, the
// injector reached over TLS and verified with exactly that caBundle (what
// the API server does on every admission), and the webhook certificates'
// expiry. Also the mesh's own certificates as published by the operator.
#include <algorithm>

#include "cli/src/check_certs.h"
#include "cli/src/check_steps.h"
#include "cli/src/tls_probe.h"
#include "common/json/json.h"
#include "common/kube/kube_error.h"
#include "common/strings.h"

namespace weft::cli {
namespace {

using json::Json;
using namespace std::chrono_literals;

constexpr const char* kWebhookConfig = "weft-injector";
constexpr const char* kInjectorService = "weft-injector";
constexpr const char* kTrustBundle = "weft-trust-bundle";

std::string operatorLogs(const CheckContext& ctx) {
  return "kubectl -n " + ctx.ns + " logs deployment/weft-operator";
}

struct WebhookService {
  std::string ns;
  std::string name;
  int port = 443;
  std::string caBundle;  // base64, as stored
};

// The configuration's webhooks must all call the injector's Service and carry
// one caBundle; the rest of the checks use that Service and bundle.
bool checkConfiguration(CheckContext& ctx, WebhookService& out) {
  const std::string name = "MutatingWebhookConfiguration " + std::string(kWebhookConfig);
  auto hook = ctx.api.get(kube::resources::mutatingWebhookConfigurations(), "", kWebhookConfig);
  if (!hook) {
    if (kube::isNotFound(hook.error())) {
      ctx.report.fail(
          name, "not found: no pod gets the proxy",
          "helm upgrade --install weft helm/weft -n " + ctx.ns + " (the chart creates it)");
    } else {
      ctx.report.fail(name, "cannot read it: " + hook.error().message,
                      fixFor(hook.error(), "run weftctl check again"));
    }
    return false;
  }
  const Json empty = Json::array();
  const Json& hooks =
      hook->contains("webhooks") && (*hook)["webhooks"].is_array() ? (*hook)["webhooks"] : empty;
  if (hooks.empty()) {
    ctx.report.fail(name, "has no webhooks", "helm upgrade --install weft helm/weft -n " + ctx.ns);
    return false;
  }
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    std::string hookName = json::getStringOr(hooks[i], "/name", "").valueOr("");
    WebhookService s;
    s.ns = json::getStringOr(hooks[i], "/clientConfig/service/namespace", "").valueOr("");
    s.name = json::getStringOr(hooks[i], "/clientConfig/service/name", "").valueOr("");
    s.port =
        static_cast<int>(json::getIntOr(hooks[i], "/clientConfig/service/port", 443).valueOr(443));
    s.caBundle = json::getStringOr(hooks[i], "/clientConfig/caBundle", "").valueOr("");
    if (s.ns != ctx.ns || s.name != kInjectorService) {
      std::string calls = s.name.empty() ? "a URL" : "Service " + s.ns + "/" + s.name;
      ctx.report.fail(name,
                      "webhook " + hookName + " calls " + calls + ", not Service " + ctx.ns + "/" +
                          kInjectorService,
                      s.ns.empty() ? "reinstall Weft with its chart"
                                   : "pass --namespace " + s.ns +
                                         " if Weft is installed there; otherwise reinstall it");
      return false;
    }
    if (i == 0) {
      out = s;
    } else if (s.caBundle != out.caBundle || s.port != out.port) {
      ctx.report.fail(name, "its webhooks disagree on the caBundle or Service port",
                      "the operator patches every webhook's caBundle; see " + operatorLogs(ctx));
      return false;
    }
  }
  ctx.report.ok(name, std::to_string(hooks.size()) + " webhook(s) calling Service " + ctx.ns + "/" +
                          kInjectorService + ":" + std::to_string(out.port));
  return true;
}

// The caBundle's CAs, valid now; empty (and a failure reported) otherwise.
std::vector<tls::Cert> checkCaBundle(CheckContext& ctx, const WebhookService& service) {
  const std::string name = "webhook caBundle";
  std::string fix = "the operator's leader sets it from Secret " + ctx.ns +
                    "/weft-injector-ca within 30 s: " + operatorLogs(ctx);
  if (service.caBundle.empty()) {
    ctx.report.fail(name,
                    "empty: the API server cannot verify the injector, so pods are not injected "
                    "(or not created at all, with failurePolicy Fail)",
                    fix);
    return {};
  }
  auto pem = base64Decode(service.caBundle);
  if (!pem) {
    ctx.report.fail(name, "not base64", fix);
    return {};
  }
  auto certs = parseCaBundle(*pem, ctx.now);
  if (!certs) {
    ctx.report.fail(name, certs.error().message, fix);
    return {};
  }
  std::string subjects;
  for (const auto& c : *certs) {
    subjects += (subjects.empty() ? "" : ", ") + subjectOf(c);
  }
  ctx.report.ok(name, std::to_string(certs->size()) + " CA certificate(s): " + subjects);
  ctx.report.add(expiryCheck(
      "expiry: webhook CA", *certs, ctx.now, ctx.expiryWarning,
      "the operator rotates it past 2/3 of its life; if it has not, " + operatorLogs(ctx)));
  return std::move(*certs);
}

// Where to reach the injector directly: --webhook-address, else the
// Service's cluster IP (what the API server connects to).
Result<ProbeTarget> directTarget(CheckContext& ctx, const WebhookService& service) {
  if (!ctx.webhookAddress.empty()) {
    return parseHostPort(ctx.webhookAddress);
  }
  auto svc = ctx.api.get(kube::resources::services(), service.ns, service.name);
  if (!svc) {
    return svc.error().context("Service " + service.ns + "/" + service.name);
  }
  std::string ip = json::getStringOr(*svc, "/spec/clusterIP", "").valueOr("");
  if (ip.empty() || ip == "None") {
    return makeError(ErrorCode::kInvalidArgument, "Service " + service.ns + "/" + service.name +
                                                      " has no cluster IP (headless)");
  }
  bool hasPort = false;
  if (svc->contains("spec") && (*svc)["spec"].contains("ports") &&
      (*svc)["spec"]["ports"].is_array()) {
    for (const auto& p : (*svc)["spec"]["ports"]) {
      hasPort = hasPort || (p.is_object() && p.value("port", 0) == service.port);
    }
  }
  if (!hasPort) {
    return makeError(ErrorCode::kInvalidArgument, "Service " + service.ns + "/" + service.name +
                                                      " has no port " +
                                                      std::to_string(service.port));
  }
  ProbeTarget target;
  target.host = ip;
  target.port = static_cast<std::uint16_t>(service.port);
  return target;
}

void checkReachable(CheckContext& ctx, const WebhookService& service,
                    const std::vector<tls::Cert>& caCerts) {
  const std::string reach = "webhook reachable";
  const std::string trust = "webhook certificate trusted by the caBundle";
  const std::string expiry = "expiry: injector serving certificate";
  // The name the API server verifies: <service>.<namespace>.svc.
  std::string host = service.name + "." + service.ns + ".svc";
  std::string injectorFix = "kubectl -n " + ctx.ns + " get endpoints " + service.name +
                            "; kubectl -n " + ctx.ns + " logs deployment/weft-injector";
  auto target = directTarget(ctx, service);
  std::string where;
  if (target) {
    target->serverName = host;
    target->path = "/healthz";
    where = target->host + ":" + std::to_string(target->port);
  }
  // A cluster IP seen from outside usually drops packets: fail over fast.
  auto probe = target ? probeHttps(*target, std::min<std::chrono::milliseconds>(3s, ctx.timeout),
                                   ctx.timeout)
                      : Result<HttpsProbe>(target.error());
  if (!probe && probe.error().code == ErrorCode::kIo) {
    // Something answered at the address but not as a TLS server would: no
    // detour can make the API server's calls work.
    ctx.report.fail(reach, where + " accepted the connection, then: " + probe.error().message,
                    injectorFix);
    ctx.report.skip(trust, "the injector was not reached");
    ctx.report.skip(expiry, "the injector was not reached");
    return;
  }
  if (!probe) {
    if (!ctx.webhookAddress.empty()) {
      ctx.report.fail(reach, probe.error().message,
                      "check --webhook-address (is kubectl port-forward still running?)");
      ctx.report.skip(trust, "the injector was not reached");
      ctx.report.skip(expiry, "the injector was not reached");
      return;
    }
    // From outside the cluster: the API server's service proxy shows the
    // injector answers, but terminates TLS itself, so the caBundle cannot be
    // checked that way.
    std::string path = "/api/v1/namespaces/" + percentEncode(service.ns) +
                       "/services/https:" + percentEncode(service.name) + ":" +
                       std::to_string(service.port) + "/proxy/healthz";
    auto proxied = ctx.api.getRaw(path);
    if (!proxied) {
      ctx.report.fail(reach,
                      "not directly (" + probe.error().message +
                          ") nor through the API server's service proxy (" +
                          proxied.error().message + ")",
                      injectorFix);
      ctx.report.skip(trust, "the injector was not reached");
      ctx.report.skip(expiry, "the injector was not reached");
      return;
    }
    ctx.report.ok(reach,
                  "through the API server's service proxy; directly: " + probe.error().message);
    std::string forward = "kubectl -n " + ctx.ns + " port-forward service/" + service.name +
                          " 9443:" + std::to_string(service.port) +
                          " and weftctl check --webhook-address 127.0.0.1:9443, or run it in "
                          "the cluster (helm test)";
    ctx.report.warn(trust, "not checked: the injector's own TLS is only visible directly", forward);
    ctx.report.skip(expiry, "needs a direct connection to the injector");
    return;
  }
  if (probe->status != 200) {
    ctx.report.fail(reach,
                    where + " answered HTTP " + std::to_string(probe->status) +
                        " to GET /healthz, not 200: is weft-injector behind it?",
                    injectorFix);
  } else {
    ctx.report.ok(reach, where + " answered GET /healthz over TLS");
  }
  if (probe->chain.empty()) {
    ctx.report.fail(trust, "the injector presented no certificate", injectorFix);
    return;
  }
  const tls::Cert& leaf = probe->chain.front();
  if (caCerts.empty()) {
    ctx.report.skip(trust, "no usable caBundle to verify with (see above)");
  } else if (auto verified = verifyServing(probe->chain, caCerts, host, ctx.now); !verified) {
    if (tls::notAfter(leaf) <= ctx.now) {
      ctx.report.fail(
          trust, "the injector's certificate has expired (see below)",
          "the operator re-issues Secret " + ctx.ns + "/weft-injector-tls: " + operatorLogs(ctx));
    } else {
      ctx.report.fail(
          trust,
          "the API server would refuse the injector: its certificate (" + subjectOf(leaf) +
              ") does not verify with the caBundle for " + host + ": " + verified.error().message,
          "a stale caBundle or an injector serving an old certificate: the operator patches "
          "the caBundle from Secret " +
              ctx.ns + "/weft-injector-ca and the injector reloads Secret " + ctx.ns +
              "/weft-injector-tls from its files; see " + operatorLogs(ctx) + ", then kubectl -n " +
              ctx.ns + " rollout restart deployment/weft-injector");
    }
  } else {
    ctx.report.ok(trust, subjectOf(leaf) + " for " + host);
  }
  ctx.report.add(expiryCheck(expiry, std::span<const tls::Cert>(&leaf, 1), ctx.now,
                             ctx.expiryWarning,
                             "the operator re-issues Secret " + ctx.ns +
                                 "/weft-injector-tls past 2/3 of its life and the injector "
                                 "reloads it: " +
                                 operatorLogs(ctx)));
}

}  // namespace

void checkWebhook(CheckContext& ctx) {
  WebhookService service;
  if (!checkConfiguration(ctx, service)) {
    return;
  }
  auto caCerts = checkCaBundle(ctx, service);
  checkReachable(ctx, service, caCerts);
}

void checkMeshCertificates(CheckContext& ctx) {
  const std::string roots = "expiry: trust bundle roots";
  const std::string issuer = "expiry: mesh issuer";
  std::string ref = "ConfigMap " + ctx.ns + "/" + kTrustBundle;
  auto cm = ctx.api.get(kube::resources::configMaps(), ctx.ns, kTrustBundle);
  if (!cm) {
    if (kube::isNotFound(cm.error())) {
      ctx.report.fail(roots, ref + " not found: the operator has not published the trust bundle",
                      operatorLogs(ctx));
    } else {
      ctx.report.fail(roots, "cannot read " + ref + ": " + cm.error().message,
                      fixFor(cm.error(), "run weftctl check again"));
    }
    ctx.report.skip(issuer, "no trust bundle");
    return;
  }
  std::string rotate = "add a new root beside the old one in ca.crt of Secret " + ctx.ns +
                       "/weft-identity-issuer and move the issuer to it (docs/operator.md, "
                       "Certificates); proxies take the new bundle without restarts";
  auto bundle = tls::parseCerts(json::getStringOr(*cm, "/data/ca-bundle.crt", "").valueOr(""));
  if (!bundle) {
    ctx.report.fail(roots, ref + ": ca-bundle.crt holds no PEM certificate", operatorLogs(ctx));
    ctx.report.skip(issuer, "no trust bundle");
    return;
  }
  ctx.report.add(expiryCheck(roots, *bundle, ctx.now, ctx.expiryWarning, rotate));

  std::string issuerPem = json::getStringOr(*cm, "/data/issuer.crt", "").valueOr("");
  if (issuerPem.empty()) {
    ctx.report.warn(issuer, ref + " has no issuer.crt: the operator predates it",
                    "upgrade the operator to this release");
    return;
  }
  auto chain = tls::parseCerts(issuerPem);
  if (!chain) {
    ctx.report.fail(issuer, ref + ": issuer.crt holds no PEM certificate", operatorLogs(ctx));
    return;
  }
  std::string renew =
      "the operator renews an issuer it made past 2/3 of its life; one you brought (no root.key "
      "in Secret " +
      ctx.ns + "/weft-identity-issuer) is yours to renew: put a new tls.crt and tls.key there";
  auto result = expiryCheck(issuer, *chain, ctx.now, ctx.expiryWarning, renew);
  if (result.status != CheckStatus::kFailed) {
    auto chained = tls::verifyChain(chain->front(), std::span(*chain).subspan(1), *bundle, ctx.now);
    if (!chained) {
      result = {issuer, CheckStatus::kFailed,
                subjectOf(chain->front()) + " does not chain to the trust bundle: " +
                    chained.error().message + "; proxies would reject the certificates it signs",
                "the issuer in Secret " + ctx.ns +
                    "/weft-identity-issuer must be signed by a root of its ca.crt"};
    }
  }
  ctx.report.add(std::move(result));
}

}  // namespace weft::cli
