// Internal to common/http: a TLS server context built from certificate and key
// files, rebuilt when either file changes. Connections keep the context they
// started with (shared_ptr), so a swap never disturbs them.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl.hpp>
#include <sys/types.h>

#include "common/asio.h"
#include "common/result.h"

namespace weft::http::detail {

class TlsFiles {
 public:
  TlsFiles(std::string certFile, std::string keyFile, std::string logger);

  // Loads both files; an error names the file and the OpenSSL reason.
  Result<void> load();

  // Reloads when a file's mtime, size or inode changed since the last attempt.
  // A failed reload (e.g. the key written after the certificate) keeps the
  // current context and is retried on the next change. Thread-safe.
  void reloadIfChanged();

  std::shared_ptr<boost::asio::ssl::context> current() const;
  std::uint64_t generation() const { return generation_.load(); }

 private:
  struct Stamp {
    long long mtimeNs = -1;
    long long size = -1;
    ino_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp stampOf(const std::string& path);
  Result<std::shared_ptr<boost::asio::ssl::context>> build() const;

  std::string certFile_;
  std::string keyFile_;
  std::string logger_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
  Stamp certStamp_;
  Stamp keyStamp_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace weft::http::detail
