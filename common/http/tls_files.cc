// TLS contexts from PEM files, reloaded on change.
#include "common/http/tls_files.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include "common/file.h"
#include "common/log/log.h"

namespace weft::http::detail {
namespace {

namespace ssl = boost::asio::ssl;

constexpr std::size_t kMaxPemBytes = 1 << 20;

std::string opensslReason(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return reason;
}

}  // namespace

TlsFiles::TlsFiles(std::string certFile, std::string keyFile, std::string logger)
    : certFile_(std::move(certFile)), keyFile_(std::move(keyFile)), logger_(std::move(logger)) {}

TlsFiles::Stamp TlsFiles::stampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Stamp{};
  }
  return Stamp{static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
               static_cast<long long>(st.st_size), st.st_ino};
}

Result<std::shared_ptr<ssl::context>> TlsFiles::build() const {
  // Read into memory first: asio's *_file calls would read each file twice
  // over a window in which a writer could replace it.
  auto cert = readFile(certFile_, kMaxPemBytes);
  if (!cert) {
    return cert.error().context(certFile_);
  }
  auto key = readFile(keyFile_, kMaxPemBytes);
  if (!key) {
    return key.error().context(keyFile_);
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(*cert), ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument,
                     certFile_ + ": not a PEM certificate chain: " + opensslReason(ec));
  }
  ctx->use_private_key(boost::asio::buffer(*key), ssl::context::pem, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument,
                     keyFile_ +
                         ": not a PEM private key, or one that does not match the "
                         "certificate in " +
                         certFile_ + ": " + opensslReason(ec));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return makeError(ErrorCode::kInvalidArgument,
                     keyFile_ + ": the key does not match the certificate in " + certFile_);
  }
  return ctx;
}

Result<void> TlsFiles::load() {
  Stamp cert = stampOf(certFile_);
  Stamp key = stampOf(keyFile_);
  auto ctx = build();
  if (!ctx) {
    return ctx.error();
  }
  std::lock_guard lock(mu_);
  current_ = std::move(*ctx);
  certStamp_ = cert;
  keyStamp_ = key;
  generation_.fetch_add(1);
  return okResult();
}

void TlsFiles::reloadIfChanged() {
  Stamp cert = stampOf(certFile_);
  Stamp key = stampOf(keyFile_);
  {
    std::lock_guard lock(mu_);
    if (cert == certStamp_ && key == keyStamp_) {
      return;
    }
    // Remember the attempt, so a bad pair is reported once, not every tick.
    certStamp_ = cert;
    keyStamp_ = key;
  }
  auto ctx = build();
  if (!ctx) {
    log::get(logger_)->warn("keeping the current TLS certificate: {}", ctx.error().message);
    return;
  }
  {
    std::lock_guard lock(mu_);
    current_ = std::move(*ctx);
  }
  auto generation = generation_.fetch_add(1) + 1;
  log::get(logger_)->info("reloaded TLS certificate from {} (generation {})", certFile_,
                          generation);
}

std::shared_ptr<ssl::context> TlsFiles::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace weft::http::detail
