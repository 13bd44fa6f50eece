// Test helpers for HTTP(S) servers: certificates generated with OpenSSL at
// run time, a temporary directory, and a blocking keep-alive client with
// socket timeouts (so a hung server fails the test instead of hanging it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace weft::testing {

struct TestCert {
  std::string certPem;
  std::string keyPem;
};

// Self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost.
TestCert makeSelfSignedCert(const std::string& commonName);

// Writes through a temporary file and rename, like a Secret volume update.
void writeFileAtomically(const std::string& path, const std::string& content);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool keepAlive = false;
  std::string header(const std::string& name) const;
};

// One connection to 127.0.0.1:port, TLS or plain; throws std::runtime_error
// on any failure (gtest reports it). Reads time out after 5 s.
class TestClient {
 public:
  TestClient(std::uint16_t port, bool tls);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends raw bytes and reads one response.
  HttpReply raw(const std::string& bytes);
  // Subject CN of the certificate the server presented.
  std::string peerCommonName() const;
  // True when the server has closed the connection (read returns EOF).
  bool peerClosed();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::testing
