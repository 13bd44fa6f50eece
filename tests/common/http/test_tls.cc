// OpenSSL certificate generation and a Beast test client.
#include "tests/common/http/test_tls.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/asio.h"

namespace weft::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

void check(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("OpenSSL: ") + what);
  }
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

TestCert makeSelfSignedCert(const std::string& commonName) {
  static std::atomic<long> serial{1};
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "EVP_EC_gen");
  X509* cert = X509_new();
  check(cert != nullptr, "X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  check(san != nullptr, "subjectAltName");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign");

  BIO* certBio = BIO_new(BIO_s_mem());
  BIO* keyBio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(certBio, cert);
  PEM_write_bio_PrivateKey(keyBio, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCert out{bioString(certBio), bioString(keyBio)};
  BIO_free(certBio);
  BIO_free(keyBio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

void writeFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  std::filesystem::rename(tmp, path);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "weft-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string HttpReply::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) {
      return v;
    }
  }
  return "";
}

struct TestClient::Impl {
  asio::io_context io;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  asio::ip::tcp::socket socket{io};
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  beast::flat_buffer buffer;

  template <class F>
  auto withStream(F&& f) {
    if (tls) {
      return f(*tls);
    }
    return f(socket);
  }
};

TestClient::TestClient(std::uint16_t port, bool tls) : impl_(std::make_unique<Impl>()) {
  impl_->socket.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{5, 0};
  ::setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (tls) {
    // Self-signed test certificates: the test checks the peer's name itself.
    impl_->ctx.set_verify_mode(asio::ssl::verify_none);
    impl_->tls =
        std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(impl_->socket, impl_->ctx);
    impl_->tls->handshake(asio::ssl::stream_base::client);
  }
}

TestClient::~TestClient() = default;

HttpReply TestClient::request(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [n, v] : headers) {
    req.set(n, v);
  }
  req.body() = body;
  req.prepare_payload();
  return impl_->withStream([&](auto& stream) {
    bhttp::write(stream, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    bhttp::read(stream, impl_->buffer, parser);
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = parser.get().body();
    reply.keepAlive = parser.get().keep_alive();
    for (const auto& f : parser.get()) {
      reply.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    return reply;
  });
}

HttpReply TestClient::raw(const std::string& bytes) {
  return impl_->withStream([&](auto& stream) {
    asio::write(stream, asio::buffer(bytes));
    bhttp::response_parser<bhttp::string_body> parser;
    bhttp::read(stream, impl_->buffer, parser);
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = parser.get().body();
    reply.keepAlive = parser.get().keep_alive();
    return reply;
  });
}

std::string TestClient::peerCommonName() const {
  if (!impl_->tls) {
    return "";
  }
  X509* cert = SSL_get1_peer_certificate(impl_->tls->native_handle());
  if (cert == nullptr) {
    return "";
  }
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  X509_free(cert);
  return buf;
}

bool TestClient::peerClosed() {
  return impl_->withStream([&](auto& stream) {
    char byte;
    boost::system::error_code ec;
    stream.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset;
  });
}

}  // namespace weft::testing
