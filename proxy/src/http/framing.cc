// Request framing checks and hop-by-hop header handling.
#include "proxy/src/http/framing.h"

#include <string>
#include <vector>

#include <boost/beast/core/string.hpp>

#include "common/strings.h"

namespace weft::proxy::http {
namespace {

// Calls f(token) for each comma-separated, trimmed, non-empty token.
template <typename F>
void forEachToken(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto token = trimOws(list.substr(0, comma));
    if (!token.empty()) {
      f(token);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
}

bool iequals(std::string_view a, std::string_view b) { return boost::beast::iequals(a, b); }

}  // namespace

std::optional<std::string_view> checkRequest(const bhttp::fields& fields, unsigned version,
                                             std::string_view target, const Limits& limits) {
  if (target.size() > limits.maxTargetBytes) {
    return "request target too long";
  }
  std::size_t count = 0;
  std::size_t hosts = 0;
  std::optional<std::string_view> length;
  bool hasTe = false;
  std::size_t chunkedCodings = 0;
  bool badCoding = false;
  std::string_view lastCoding;
  for (const auto& f : fields) {
    if (++count > limits.maxHeaders) {
      return "too many header fields";
    }
    switch (f.name()) {
      case bhttp::field::host:
        ++hosts;
        break;
      case bhttp::field::content_length: {
        auto v = trimOws(f.value());
        if (length && *length != v) {
          return "conflicting Content-Length fields";
        }
        length = v;
        break;
      }
      case bhttp::field::transfer_encoding:
        hasTe = true;
        forEachToken(f.value(), [&](std::string_view t) {
          lastCoding = t;
          chunkedCodings += iequals(t, "chunked") ? 1 : 0;
          badCoding = badCoding || !isToken(t);
        });
        break;
      default:
        break;
    }
  }
  // Beast stops reading codings at one that is not a token (parameters
  // included), so it might not see the chunked we forward.
  if (badCoding) {
    return "malformed Transfer-Encoding";
  }
  if (hasTe && length) {
    return "both Content-Length and Transfer-Encoding";
  }
  if (hasTe && version < 11) {
    return "Transfer-Encoding on HTTP/1.0";
  }
  if (hasTe && !iequals(lastCoding, "chunked")) {
    return "Transfer-Encoding does not end in chunked";
  }
  // Beast frames "chunked, chunked" as no body; an upstream would read chunks.
  if (chunkedCodings > 1) {
    return "chunked applied more than once";
  }
  if (version >= 11 && hosts != 1) {
    return hosts == 0 ? "missing Host" : "several Host fields";
  }
  return std::nullopt;
}

void removeHopByHop(bhttp::fields& fields, bool keepUpgrade) {
  // Fields named by Connection are hop-by-hop too.
  std::vector<std::string> named;
  // Beast's equal_range spans other fields in list order, so filter by hand.
  for (const auto& f : fields) {
    if (f.name() == bhttp::field::connection) {
      forEachToken(f.value(), [&](std::string_view t) { named.emplace_back(t); });
    }
  }
  for (const auto& n : named) {
    if (keepUpgrade && iequals(n, "upgrade")) {
      continue;
    }
    if (iequals(n, "content-length") || iequals(n, "transfer-encoding") || iequals(n, "host")) {
      continue;  // framing and routing fields are never the peer's to strip
    }
    fields.erase(n);
  }
  fields.erase(bhttp::field::connection);
  fields.erase(bhttp::field::keep_alive);
  fields.erase(bhttp::field::proxy_connection);
  fields.erase(bhttp::field::te);
  fields.erase(bhttp::field::trailer);
  if (keepUpgrade) {
    fields.set(bhttp::field::connection, "upgrade");
  } else {
    fields.erase(bhttp::field::upgrade);
  }
}

bool isUpgrade(const bhttp::fields& fields) {
  if (fields.find(bhttp::field::upgrade) == fields.end()) {
    return false;
  }
  bool found = false;
  for (const auto& f : fields) {
    if (f.name() == bhttp::field::connection) {
      forEachToken(f.value(), [&](std::string_view t) { found = found || iequals(t, "upgrade"); });
    }
  }
  return found;
}

bool isIdempotent(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return false;
  }
}

}  // namespace weft::proxy::http
