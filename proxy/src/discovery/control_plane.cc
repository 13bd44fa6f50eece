// TLS setup and connection to the control plane.
#include "proxy/src/discovery/control_plane.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace weft::proxy::discovery {

namespace ssl = boost::asio::ssl;

Result<void> expectServer(ControlPlaneStream& stream, const std::string& serverName) {
  SSL* s = stream.native_handle();
  boost::system::error_code ec;
  boost::asio::ip::make_address(serverName, ec);
  bool ip = !ec;
  X509_VERIFY_PARAM* param = SSL_get0_param(s);
  // A mesh certificate without a DNS name (a workload's) must never pass for
  // the control plane through its common name.
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  bool ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, serverName.c_str()) == 1
               : SSL_set_tlsext_host_name(s, serverName.c_str()) == 1 &&
                     SSL_set1_host(s, serverName.c_str()) == 1;
  if (!ok) {
    return makeError(ErrorCode::kInvalidArgument, "bad server name " + serverName);
  }
  return {};
}

boost::asio::awaitable<Result<void>> connectAndHandshake(
    ControlPlaneStream& stream, const boost::asio::ip::tcp::resolver::results_type& endpoints,
    const std::string& where, const std::string& serverName) {
  boost::system::error_code ec;
  co_await boost::beast::get_lowest_layer(stream).async_connect(endpoints, ecTok(ec));
  if (ec) {
    co_return makeError(ErrorCode::kUnavailable, "connecting to " + where + ": " + ec.message());
  }
  co_await stream.async_handshake(ssl::stream_base::client, ecTok(ec));
  if (ec) {
    std::string why = ec.message();
    long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      why += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    }
    co_return makeError(ErrorCode::kUnavailable, "TLS handshake with " + serverName + ": " + why);
  }
  co_return Result<void>{};
}

}  // namespace weft::proxy::discovery
