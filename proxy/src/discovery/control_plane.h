// TLS connections to the control plane, shared by the discovery streams and
// the certify call so both verify the server the same way. Beast types: only
// include from .cc files.
#pragma once

#include <string>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/asio.h"
#include "common/result.h"

namespace weft::proxy::discovery {

using ControlPlaneStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// SNI and verification of `serverName` (a DNS name, or an IP address) against
// the certificate's subjectAltNames, never its common name, before connecting.
// The roots come from the stream's context (trust.h).
Result<void> expectServer(ControlPlaneStream& stream, const std::string& serverName);

// Connects to the first endpoint that answers, then the TLS handshake. The
// lowest layer's deadline must already be set. Errors name `where` or the
// server (and why its certificate was refused) and are kUnavailable.
boost::asio::awaitable<Result<void>> connectAndHandshake(
    ControlPlaneStream& stream, const boost::asio::ip::tcp::resolver::results_type& endpoints,
    const std::string& where, const std::string& serverName);

}  // namespace weft::proxy::discovery
