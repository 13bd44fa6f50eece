// Test client for the operator: a discovery stream over TLS that hands out
// one NDJSON line at a time with a deadline, and a plain HTTP GET for the
// admin API. Single-threaded; every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace weft::op::testing {

// A client certificate to present: the chain (leaf first) and its key, PEM.
struct ClientCertificate {
  std::string chainPem;
  std::string keyPem;
};

class StreamClient {
 public:
  // Connects to 127.0.0.1:port, sends GET `target` and reads the response
  // header. With `caPem` the server certificate is verified against it (and
  // the name "localhost"); without, it is not. With `cert`, presents it.
  // Null on failure (`error` says why).
  static std::unique_ptr<StreamClient> open(
      std::uint16_t port, const std::string& target, const std::string& caPem, std::string* error,
      std::chrono::milliseconds timeout = std::chrono::seconds(5),
      const ClientCertificate& cert = {});
  ~StreamClient();

  int status() const;
  // The body of a non-streaming answer (errors), read to the end.
  std::string readAll(std::chrono::milliseconds timeout);
  // The next complete line (without "\n"); nullopt on timeout or end of stream.
  std::optional<std::string> nextLine(std::chrono::milliseconds timeout);
  bool closed() const;

  struct Impl;

 private:
  explicit StreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
};

// GET http://127.0.0.1:port/path, bounded by `timeout`.
HttpAnswer httpGet(std::uint16_t port, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace weft::op::testing
