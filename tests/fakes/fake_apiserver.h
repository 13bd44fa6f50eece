// FakeApiServer: a fake kube-apiserver on 127.0.0.1 (HTTP/1.1, or HTTPS
// with a test certificate) for the client and informer tests. It speaks the
// real protocol as recorded in ../shared/fixtures/k8s and has hooks to make
// trouble: drop every watch, inject 403/500, compact history (410 Gone).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "tests/fakes/fake_api_state.h"

namespace weft::testing {

struct FakeApiServerOptions {
  // HTTPS when both are set (PEM); plain HTTP otherwise.
  std::string certPem;
  std::string keyPem;
  // When set, clients must present a certificate signed by this CA.
  std::string clientCaPem;
  std::chrono::milliseconds bookmarkInterval{1000};
};

class FakeApiServer {
 public:
  // Listens on 127.0.0.1:0 and serves on its own threads until destroyed.
  static Result<std::unique_ptr<FakeApiServer>> start(const FakeApiServerOptions& options = {});
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::uint16_t port() const;
  // "https://127.0.0.1:PORT" or "http://..."
  std::string url() const;
  // The store and the trouble hooks (dropWatches, compact, injectError, ...).
  FakeApiState& state();
  // Watch streams open right now, and started since the server started.
  int openWatches() const;
  int watchesStarted() const;

 private:
  struct Impl;
  explicit FakeApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::testing
