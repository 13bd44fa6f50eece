// Protocol detection from the first bytes a client sends: HTTP/1.x takes
// the HTTP path, everything else (HTTP/2 prior knowledge, TLS, server-first
// protocols) is forwarded as opaque TCP.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace weft::proxy::tcp {

enum class Detected { kNeedMore, kHttp1, kOpaque };

// Decides from a prefix of the stream. kNeedMore only while the prefix could
// still become an HTTP/1 request line; at most 8 bytes are ever needed.
Detected detect(std::string_view prefix);

// Ports of server-speaks-first protocols, never sniffed (SMTP, MySQL,
// PostgreSQL, Redis, memcached, ...).
std::vector<std::uint16_t> defaultOpaquePorts();

}  // namespace weft::proxy::tcp
