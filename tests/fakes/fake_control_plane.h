// A fake Weft control plane for proxy tests: the certify call exactly as in
// docs/api.md (a mesh CA made with common/tls signs CSRs for tokens it was
// told about) and discovery streams serving documents the test sets. Each
// discovery answer holds one document and ends; the proxy reconnects and
// keeps the last good one, which is enough for tests.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/http/server.h"
#include "common/result.h"
#include "common/tls/pki.h"

namespace weft::testing {

// A mesh CA: a self-signed root and an issuer under it.
struct MeshCa {
  static Result<MeshCa> create(const std::string& name);
  weft::tls::PKey rootKey;
  weft::tls::Cert root;
  weft::tls::PKey issuerKey;
  weft::tls::Cert issuer;
  std::string rootPem;
  std::string issuerPem;
  // A leaf for `spiffeId` with a fresh key: {certificate PEM, key PEM}.
  Result<std::pair<std::string, std::string>> issue(const std::string& spiffeId,
                                                    weft::tls::SystemTime notBefore,
                                                    weft::tls::SystemTime notAfter) const;
};

class FakeControlPlane {
 public:
  // Serves HTTPS on 127.0.0.1:0 with a serving certificate written to `dir`.
  static Result<std::unique_ptr<FakeControlPlane>> start(const std::string& dir,
                                                         const std::string& caName = "mesh");

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  // PEM file with the roots of the serving certificate (--control-plane-ca).
  const std::string& servingCaFile() const { return servingCaFile_; }
  const MeshCa& ca() const { return ca_; }

  // `token` vouches for spiffe://cluster.local/ns/<ns>/sa/<sa>.
  void addToken(const std::string& token, const std::string& ns, const std::string& sa);
  void setLifetime(std::chrono::milliseconds lifetime);
  // false: certify answers 503, as before the issuer is loaded.
  void setAvailable(bool available) { available_ = available; }
  // A discovery document (JSON, one line) for an authority, or for
  // "inbound:<ns>/<name>".
  void setDocument(const std::string& key, const std::string& json);
  int issued() const { return issued_; }

 private:
  http::Response handle(const http::Request& request);
  http::Response certify(const http::Request& request);

  MeshCa ca_;
  std::string servingCaFile_;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;     // token -> SPIFFE ID
  std::map<std::string, std::string> documents_;  // key -> JSON
  std::chrono::milliseconds lifetime_{std::chrono::hours(24)};
  std::atomic<bool> available_{true};
  std::atomic<int> issued_{0};
  std::unique_ptr<http::Server> server_;  // last: stops first
};

}  // namespace weft::testing
