// FakeControlPlane: common/http server, common/tls CA.
#include "tests/fakes/fake_control_plane.h"

#include <fstream>

#include "common/api/json.h"
#include "tests/fakes/test_certs.h"

namespace weft::testing {
namespace {

using Clock = std::chrono::system_clock;

http::Response refuse(int status, const std::string& why) {
  return http::Response::json(status, json::dump(json::Json{{"error", why}}));
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

}  // namespace

Result<MeshCa> MeshCa::create(const std::string& name) {
  MeshCa ca;
  auto rootKey = weft::tls::generateKey();
  auto issuerKey = weft::tls::generateKey();
  if (!rootKey || !issuerKey) {
    return makeError(ErrorCode::kInternal, "key generation failed");
  }
  auto now = Clock::now();
  weft::tls::CertSpec root{name + " root",
                           std::nullopt,
                           {},
                           true,
                           1,
                           now - std::chrono::hours(1),
                           now + std::chrono::hours(24 * 365)};
  auto rootCert = weft::tls::selfSign(root, *rootKey);
  if (!rootCert) {
    return rootCert.error();
  }
  weft::tls::CertSpec issuer{name + " issuer",
                             std::nullopt,
                             {},
                             true,
                             0,
                             now - std::chrono::hours(1),
                             now + std::chrono::hours(24 * 30)};
  auto issuerCert = weft::tls::sign(issuer, *issuerKey, *rootCert, *rootKey);
  if (!issuerCert) {
    return issuerCert.error();
  }
  ca.rootPem = weft::tls::certPem(*rootCert).valueOr("");
  ca.issuerPem = weft::tls::certPem(*issuerCert).valueOr("");
  ca.rootKey = std::move(*rootKey);
  ca.root = std::move(*rootCert);
  ca.issuerKey = std::move(*issuerKey);
  ca.issuer = std::move(*issuerCert);
  return ca;
}

Result<std::pair<std::string, std::string>> MeshCa::issue(const std::string& spiffeId,
                                                          weft::tls::SystemTime notBefore,
                                                          weft::tls::SystemTime notAfter) const {
  auto key = weft::tls::generateKey();
  if (!key) {
    return key.error();
  }
  weft::tls::CertSpec spec{"", spiffeId, {}, false, std::nullopt, notBefore, notAfter};
  auto cert = weft::tls::sign(spec, *key, issuer, issuerKey);
  if (!cert) {
    return cert.error();
  }
  return std::make_pair(weft::tls::certPem(*cert).valueOr("") + issuerPem,
                        weft::tls::privateKeyPem(*key).valueOr(""));
}

Result<std::unique_ptr<FakeControlPlane>> FakeControlPlane::start(const std::string& dir,
                                                                  const std::string& caName) {
  std::unique_ptr<FakeControlPlane> fake(new FakeControlPlane());
  auto ca = MeshCa::create(caName);
  if (!ca) {
    return ca.error();
  }
  fake->ca_ = std::move(*ca);
  auto pki = makeTestPki();
  if (!pki) {
    return pki.error();
  }
  fake->servingCaFile_ = dir + "/" + caName + "-serving-ca.pem";
  writeFile(fake->servingCaFile_, pki->caCertPem);
  writeFile(dir + "/" + caName + "-serving.pem", pki->serverCertPem);
  writeFile(dir + "/" + caName + "-serving-key.pem", pki->serverKeyPem);
  http::ServerOptions options;
  options.certFile = dir + "/" + caName + "-serving.pem";
  options.keyFile = dir + "/" + caName + "-serving-key.pem";
  options.threads = 2;
  options.logger = "fake-control-plane";
  auto* self = fake.get();
  auto server =
      http::Server::start(options, [self](const http::Request& r) { return self->handle(r); });
  if (!server) {
    return server.error();
  }
  fake->server_ = std::move(*server);
  return fake;
}

void FakeControlPlane::addToken(const std::string& token, const std::string& ns,
                                const std::string& sa) {
  std::lock_guard lock(mu_);
  tokens_[token] = weft::tls::workloadId("cluster.local", ns, sa);
}

void FakeControlPlane::setLifetime(std::chrono::milliseconds lifetime) {
  std::lock_guard lock(mu_);
  lifetime_ = lifetime;
}

void FakeControlPlane::setDocument(const std::string& key, const std::string& json) {
  std::lock_guard lock(mu_);
  documents_[key] = json;
}

http::Response FakeControlPlane::handle(const http::Request& request) {
  if (request.method == "POST" && request.path == "/v1/identity/certify") {
    return certify(request);
  }
  if (request.method != "GET") {
    return refuse(405, "method not allowed");
  }
  std::string key;
  auto q = decode(request.query);
  if (request.path == "/v1/discovery/outbound" && q.rfind("authority=", 0) == 0) {
    key = q.substr(10);
  } else if (request.path == "/v1/discovery/inbound" && q.rfind("pod=", 0) == 0) {
    key = "inbound:" + q.substr(4);
  } else {
    return refuse(404, "not found");
  }
  std::lock_guard lock(mu_);
  auto it = documents_.find(key);
  if (it == documents_.end()) {
    return refuse(404, "no document for " + key);
  }
  http::Response r;
  r.contentType = "application/x-ndjson";
  r.body = it->second + "\n";
  return r;
}

http::Response FakeControlPlane::certify(const http::Request& request) {
  if (!available_) {
    return refuse(503, "the issuer is not loaded yet");
  }
  auto auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.substr(0, kBearer.size()) != kBearer) {
    return refuse(401, "no bearer token");
  }
  std::string id;
  std::chrono::milliseconds lifetime;
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(std::string(auth.substr(kBearer.size())));
    if (it == tokens_.end()) {
      return refuse(401, "the token is not valid for audience weft.io/identity");
    }
    id = it->second;
    lifetime = lifetime_;
  }
  auto body = json::parse(request.body);
  auto certify =
      body ? api::certifyRequestFromJson(*body) : Result<api::CertifyRequest>(body.error());
  if (!certify) {
    return refuse(400, certify.error().message);
  }
  auto csr = weft::tls::parseCsr(certify->csr);
  if (!csr) {
    return refuse(400, csr.error().message);
  }
  if (csr->spiffeId != id) {
    return refuse(403, "the CSR asks for " + csr->spiffeId + ", the token is " + id);
  }
  auto now = Clock::now();
  auto notAfter = now + lifetime;
  weft::tls::CertSpec spec{"",      id, {}, false, std::nullopt, now - std::chrono::minutes(1),
                           notAfter};
  auto leaf = weft::tls::sign(spec, csr->publicKey, ca_.issuer, ca_.issuerKey);
  if (!leaf) {
    return refuse(500, leaf.error().message);
  }
  ++issued_;
  api::CertifyResponse answer{
      id, {weft::tls::certPem(*leaf).valueOr(""), ca_.issuerPem}, {ca_.rootPem}, notAfter};
  return http::Response::json(200, json::dump(api::toJson(answer)));
}

}  // namespace weft::testing
