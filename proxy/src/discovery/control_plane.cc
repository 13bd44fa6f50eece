// TLS setup and connection to the control plane.
#include "proxy/src/discovery/control_plane.h"

#include <openssl/ssl.h>

namespace weft::proxy::discovery {

namespace ssl = boost::asio::ssl;

Result<void> trustControlPlane(ssl::context& tls, const std::string& caPem) {
  boost::system::error_code ec;
  tls.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    tls.add_certificate_authority(boost::asio::buffer(caPem), ec);
  }
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument,
                     "cannot use the control-plane CA: " + ec.message());
  }
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  return {};
}

Result<void> expectServer(ControlPlaneStream& stream, const std::string& serverName) {
  if (SSL_set_tlsext_host_name(stream.native_handle(), serverName.c_str()) != 1) {
    return makeError(ErrorCode::kInvalidArgument, "bad server name " + serverName);
  }
  stream.set_verify_callback(ssl::host_name_verification(serverName));
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
    co_return makeError(ErrorCode::kUnavailable,
                        "TLS handshake with " + serverName + ": " + ec.message());
  }
  co_return Result<void>{};
}

}  // namespace weft::proxy::discovery
