// HTTP/1.1 proxying of one client connection: reads requests with hardened
// parsing, picks a destination and endpoint, forwards with keep-alive
// upstream connections, retries what is safe to retry, streams bodies both
// ways, tunnels upgrades, and answers its own errors with `weft-error`.
// Runs on the connection's worker; the coroutine frame owns all state.
#pragma once

#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>

#include "common/asio.h"
#include "proxy/src/net/context.h"
#include "proxy/src/net/stream.h"

namespace weft::proxy::http {

struct ConnInfo {
  net::Tcp::endpoint peer;
  net::Tcp::endpoint originalDst;
  bool redirected = false;
  bool inbound = false;
  // STRICT mTLS on a plaintext connection: only the kubelet's probe paths pass.
  bool plaintextProbesOnly = false;
  // The caller's verified SPIFFE ID on an mTLS connection; none for plaintext.
  std::optional<std::string> peerIdentity;
  metrics::Counter* peerRequests = nullptr;  // inbound requests of this caller
};

// Serves requests until the client closes, an error ends the connection or
// the worker drains. `buffer` may already hold the first bytes (detection).
boost::asio::awaitable<void> serveHttp1(net::WorkerContext& ctx, net::LiveConnection& live,
                                        net::Stream& client, boost::beast::flat_buffer& buffer,
                                        ConnInfo info);

}  // namespace weft::proxy::http
