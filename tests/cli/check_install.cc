// The fake Weft installation behind the weftctl check tests.
#include "tests/cli/check_install.h"

#include <ctime>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/kube/kube_error.h"
#include "common/strings.h"
#include "common/yaml/yaml.h"
#include "tests/fakes/test_certs.h"

namespace weft::testing {
namespace {

using json::Json;
using namespace std::chrono_literals;
namespace res = kube::resources;

const kube::Resource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                           "CustomResourceDefinition", false};
const kube::Resource kDeployments{"apps", "v1", "deployments", "Deployment", true};
const kube::Resource kEndpoints{"", "v1", "endpoints", "Endpoints", true};

TestIdentity finish(tls::Cert cert, tls::PKey key) {
  TestIdentity out;
  out.certPem = tls::certPem(cert).valueOr("");
  out.keyPem = tls::privateKeyPem(key).valueOr("");
  out.cert = std::move(cert);
  out.key = std::move(key);
  EXPECT_FALSE(out.certPem.empty());
  return out;
}

TestIdentity make(const tls::CertSpec& spec, const TestIdentity* parent) {
  auto key = tls::generateKey();
  EXPECT_TRUE(key.ok());
  auto cert = parent == nullptr ? tls::selfSign(spec, *key)
                                : tls::sign(spec, *key, parent->cert, parent->key);
  EXPECT_TRUE(cert.ok()) << cert.error().describe();
  return finish(std::move(*cert), std::move(*key));
}

std::string microTime(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
  return buf;
}

template <class F>
bool waitFor(F done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

}  // namespace

Validity validFor(std::chrono::seconds left) {
  auto now = std::chrono::system_clock::now();
  return {now - 1h + (left < 0s ? left : 0s), now + left};
}

TestIdentity makeRootCa(const std::string& commonName, Validity validity) {
  tls::CertSpec spec;
  spec.commonName = commonName;
  spec.isCa = true;
  spec.notBefore = validity.notBefore;
  spec.notAfter = validity.notAfter;
  return make(spec, nullptr);
}

TestIdentity issueCa(const TestIdentity& parent, const std::string& commonName, Validity validity) {
  tls::CertSpec spec;
  spec.commonName = commonName;
  spec.isCa = true;
  spec.pathLength = 0;
  spec.notBefore = validity.notBefore;
  spec.notAfter = validity.notAfter;
  return make(spec, &parent);
}

TestIdentity issueServing(const TestIdentity& ca, const std::vector<std::string>& dnsNames,
                          Validity validity) {
  tls::CertSpec spec;
  spec.commonName = dnsNames.empty() ? "serving" : dnsNames.front();
  spec.dnsNames = dnsNames;
  spec.notBefore = validity.notBefore;
  spec.notAfter = validity.notAfter;
  return make(spec, &ca);
}

CheckInstall::CheckInstall() {
  auto year = validFor(std::chrono::hours(24 * 365));
  webhookCa = makeRootCa("weft-injector-ca", year);
  serving = issueServing(webhookCa, {kServiceHost, "weft-injector.weft-system.svc.cluster.local"},
                         validFor(std::chrono::hours(24 * 90)));
  meshRoot = makeRootCa("weft-mesh-root", validFor(std::chrono::hours(24 * 3650)));
  issuer = issueCa(meshRoot, "weft-mesh-issuer", year);

  auto pki = makeTestPki();
  EXPECT_TRUE(pki.ok());
  FakeApiServerOptions options;
  options.certPem = pki->serverCertPem;
  options.keyPem = pki->serverKeyPem;
  auto server = FakeApiServer::start(options);
  EXPECT_TRUE(server.ok()) << server.error().describe();
  server_ = std::move(*server);
  server_->state().setRequiredToken("check-token");
  server_->state().setServerVersion("v1.30.2");

  kubeconfig_ = dir_.file("kubeconfig");
  writeFileAtomically(kubeconfig_,
                      "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                      "contexts:\n- name: test\n  context: {cluster: fake, user: u}\n"
                      "clusters:\n- name: fake\n  cluster:\n    server: " +
                          server_->url() +
                          "\n    certificate-authority-data: " + base64Encode(pki->caCertPem) +
                          "\nusers:\n- name: u\n  user: {token: check-token}\n");
  auto config = kube::loadKubeconfig(kubeconfig_);
  EXPECT_TRUE(config.ok()) << config.error().describe();
  auto api = kube::HttpKubeApi::create(*config);
  EXPECT_TRUE(api.ok());
  api_ = std::move(*api);
}

CheckInstall::~CheckInstall() { stopInjector(); }

bool CheckInstall::install() {
  return putCrds() && putDeployment("weft-operator", 2, 2) &&
         putLease("weft-operator-7d9f-abcde", std::chrono::system_clock::now()) &&
         putDeployment("weft-injector", 2, 2) && startInjector(serving) &&
         putWebhook(webhookCa.certPem) && putService() &&
         putTrustBundle(meshRoot.certPem, issuer.certPem);
}

bool CheckInstall::put(const kube::Resource& resource, const std::string& ns, Json object) {
  std::string name = object["metadata"]["name"].get<std::string>();
  object["metadata"]["namespace"] = ns;
  if (!resource.namespaced) {
    object["metadata"].erase("namespace");
  }
  auto existing = api_->get(resource, ns, name);
  Result<Json> stored = existing ? [&] {
    object["metadata"]["resourceVersion"] = kube::resourceVersionOf(*existing);
    return api_->update(resource, object);
  }()
                                 : api_->create(resource, ns, object);
  EXPECT_TRUE(stored.ok()) << resource.plural << "/" << name << ": " << stored.error().describe();
  if (!stored) {
    return false;
  }
  if (object.contains("status") &&
      (resource.plural == "deployments" || resource.plural == "customresourcedefinitions")) {
    (*stored)["status"] = object["status"];
    auto written = api_->update(resource, *stored, "status");
    EXPECT_TRUE(written.ok()) << written.error().describe();
    return written.ok();
  }
  return true;
}

bool CheckInstall::putCrds() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(WEFT_CRDS_DIR)) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    auto text = readFile(entry.path().string());
    auto crd = text ? yaml::parseOne(*text) : Result<Json>(text.error());
    EXPECT_TRUE(crd.ok()) << entry.path();
    if (!crd) {
      return false;
    }
    // What kube-apiserver reports once it serves the CRD.
    (*crd)["status"] = {{"acceptedNames", (*crd)["spec"]["names"]},
                        {"conditions",
                         {{{"type", "NamesAccepted"},
                           {"status", "True"},
                           {"reason", "NoConflicts"},
                           {"message", "no conflicts found"}},
                          {{"type", "Established"},
                           {"status", "True"},
                           {"reason", "InitialNamesAccepted"},
                           {"message", "the initial names have been accepted"}}}},
                        {"storedVersions", {"v1alpha1"}}};
    if (!put(kCrds, "", *crd)) {
      return false;
    }
    ++count;
  }
  EXPECT_EQ(count, 4) << "the CRDs in " << WEFT_CRDS_DIR;
  return count > 0;
}

bool CheckInstall::editCrd(const std::string& name, const std::function<void(Json&)>& edit) {
  auto crd = api_->get(kCrds, "", name);
  EXPECT_TRUE(crd.ok()) << name;
  if (!crd) {
    return false;
  }
  edit(*crd);
  return put(kCrds, "", *crd);
}

bool CheckInstall::putDeployment(const std::string& name, int replicas, int ready) {
  Json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"labels", {{"app.kubernetes.io/name", name}}}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app.kubernetes.io/name", name}}}}}}},
            {"status",
             {{"replicas", replicas},
              {"readyReplicas", ready},
              {"availableReplicas", ready},
              {"conditions",
               {{{"type", "Available"},
                 {"status", ready > 0 ? "True" : "False"},
                 {"reason", ready > 0 ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
                 {"message", ready > 0 ? "Deployment has minimum availability."
                                       : "Deployment does not have minimum availability."}}}}}}};
  if (ready == 0) {
    d["status"].erase("readyReplicas");  // the API server omits zero counts
  }
  return put(kDeployments, kNamespace, d);
}

bool CheckInstall::putLease(const std::string& holder, SystemTime renewed) {
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "weft-operator"}}},
                {"spec",
                 {{"holderIdentity", holder},
                  {"leaseDurationSeconds", 15},
                  {"acquireTime", microTime(renewed - 1h)},
                  {"renewTime", microTime(renewed)},
                  {"leaseTransitions", 3}}}};
  return put(res::leases(), kNamespace, lease);
}

bool CheckInstall::startInjector(const TestIdentity& cert) {
  stopInjector();
  writeFileAtomically(dir_.file("tls.crt"), cert.certPem);
  writeFileAtomically(dir_.file("tls.key"), cert.keyPem);
  std::string log = dir_.file("injector.log");
  std::filesystem::remove(log);
  injector_ = std::make_unique<Child>(
      std::vector<std::string>{WEFT_INJECTOR_BIN, "--listen", "127.0.0.1:0", "--tls-cert",
                               dir_.file("tls.crt"), "--tls-key", dir_.file("tls.key"),
                               "--kube-version", "v1.30.2"},
      log);
  std::regex servingLine("serving on port ([0-9]+)");
  injectorPort_ = 0;
  waitFor(
      [&] {
        auto text = readFile(log);
        std::smatch m;
        if (text.ok() && std::regex_search(*text, m, servingLine)) {
          injectorPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
          return true;
        }
        return !injector_->running();
      },
      10s);
  EXPECT_NE(injectorPort_, 0) << readFile(log).valueOr("");
  return injectorPort_ != 0;
}

void CheckInstall::stopInjector() {
  if (injector_) {
    injector_->stop(SIGTERM);
    injector_.reset();
  }
}

bool CheckInstall::putWebhook(const std::string& caBundlePem, std::uint16_t port) {
  Json hook = {{"apiVersion", "admissionregistration.k8s.io/v1"},
               {"kind", "MutatingWebhookConfiguration"},
               {"metadata", {{"name", "weft-injector"}}},
               {"webhooks",
                {{{"name", "inject.weft.io"},
                  {"admissionReviewVersions", {"v1"}},
                  {"clientConfig",
                   {{"service",
                     {{"name", "weft-injector"},
                      {"namespace", kNamespace},
                      {"path", "/mutate"},
                      {"port", port != 0 ? port : injectorPort_}}},
                    {"caBundle", base64Encode(caBundlePem)}}},
                  {"sideEffects", "None"},
                  {"failurePolicy", "Fail"}}}}};
  if (caBundlePem.empty()) {
    hook["webhooks"][0]["clientConfig"].erase("caBundle");
  }
  return put(res::mutatingWebhookConfigurations(), "", hook);
}

// The Service port is the injector's own port, so that the cluster IP (here
// a loopback address) reaches it the way a real cluster IP reaches the pod.
bool CheckInstall::putService() {
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "weft-injector"}}},
              {"spec",
               {{"clusterIP", clusterIp},
                {"ports",
                 {{{"name", "https-webhook"},
                   {"port", injectorPort_},
                   {"targetPort", "https"},
                   {"protocol", "TCP"}}}}}}};
  Json endpoints = {
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", {{"name", "weft-injector"}}},
      {"subsets",
       {{{"addresses", {{{"ip", "127.0.0.1"}}}},
         {"ports", {{{"name", "https-webhook"}, {"port", injectorPort_}, {"protocol", "TCP"}}}}}}}};
  return put(res::services(), kNamespace, svc) && put(kEndpoints, kNamespace, endpoints);
}

bool CheckInstall::putTrustBundle(const std::string& rootsPem, const std::string& issuerPem) {
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "weft-trust-bundle"}}},
             {"data", {{"ca-bundle.crt", rootsPem}}}};
  if (!issuerPem.empty()) {
    cm["data"]["issuer.crt"] = issuerPem;
  }
  return put(res::configMaps(), kNamespace, cm);
}

RunResult CheckInstall::check(const std::vector<std::string>& args,
                              std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{WEFTCTL_BIN, "check", "--kubeconfig", kubeconfig_};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProcess(argv, "", timeout);
}

}  // namespace weft::testing
