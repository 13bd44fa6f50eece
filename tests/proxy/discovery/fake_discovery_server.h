// Test-only HTTPS server that speaks the discovery API's streams: it accepts GET requests,
// answers with a chunked NDJSON stream, and writes whatever lines the test pushes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/proxy/discovery/test_tls.h"

namespace weft::proxy::discovery::testing {

class FakeDiscoveryServer {
 public:
  // Listens on 127.0.0.1, a port of its own choosing, with `cert`.
  explicit FakeDiscoveryServer(const TestCert& cert);
  ~FakeDiscoveryServer();

  std::uint16_t port() const;

  // Requests seen for `target` ("/v1/discovery/outbound?authority=a:80"), whatever the answer.
  int requests(const std::string& target) const;
  // Waits until `requests(target) >= count` and, when answering 200, that stream is open.
  bool waitForRequests(const std::string& target, int count,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Writes `bytes` as one chunk to every open stream of `target`; returns how many got it.
  int send(const std::string& target, const std::string& bytes);
  // Cuts every open stream (no TLS close_notify, like a crashed server).
  void dropAll();
  // The status later requests get (200 = a stream; anything else ends at once).
  void setStatus(int status);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::proxy::discovery::testing
