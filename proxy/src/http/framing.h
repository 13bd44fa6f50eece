// RFC 9110/9112 message checks Beast 1.74 leaves to us: request framing that
// enables smuggling, header-count limits, and hop-by-hop header removal.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

namespace weft::proxy::http {

namespace bhttp = boost::beast::http;

struct Limits {
  std::size_t maxHeaderBytes = 64 * 1024;  // request line plus all fields
  std::size_t maxHeaders = 100;
  std::size_t maxTargetBytes = 8 * 1024;
};

// Why a request must be refused with 400, or nullopt when its framing is
// sound: both Content-Length and Transfer-Encoding, differing duplicate
// lengths, Transfer-Encoding not ending in chunked, chunked more than once,
// Transfer-Encoding on HTTP/1.0, no or several Host fields on HTTP/1.1, too
// many fields or too long a target.
std::optional<std::string_view> checkRequest(const bhttp::fields& fields, unsigned version,
                                             std::string_view target, const Limits& limits);

// Removes Connection, the fields it names, Keep-Alive, Proxy-Connection, TE,
// Trailer and Upgrade (RFC 9110 §7.6.1). Transfer-Encoding and Content-Length
// stay: the body keeps its framing. With keepUpgrade, Upgrade and
// "Connection: upgrade" survive so the peer can switch protocols.
void removeHopByHop(bhttp::fields& fields, bool keepUpgrade);

// Connection: upgrade with an Upgrade field (WebSocket and friends).
bool isUpgrade(const bhttp::fields& fields);

// RFC 9110 §9.2.2.
bool isIdempotent(bhttp::verb method);

}  // namespace weft::proxy::http
