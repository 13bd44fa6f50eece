// libFuzzer target for the proxy's HTTP/1 request path: the bytes a client
// sends go through protocol detection, Beast's request parser with the
// proxy's limits, the proxy's own framing checks and hop-by-hop removal,
// and then the body is read the way the proxy streams it.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "proxy/src/http/framing.h"
#include "proxy/src/tcp/detect.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (weft::proxy::tcp::detect(input.substr(0, 16)) == weft::proxy::tcp::Detected::kOpaque) {
    return 0;
  }
  // The proxy's limits, scaled down so that inputs within -max_len reach them.
  weft::proxy::http::Limits limits;
  limits.maxHeaderBytes = 2048;
  limits.maxTargetBytes = 1024;
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.maxHeaderBytes));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (ec || !parser.is_header_done()) {
    return 0;
  }
  auto& req = parser.get();
  if (weft::proxy::http::checkRequest(req, req.version(), req.target(), limits)) {
    return 0;  // refused with 400
  }
  // Content-Length and Transfer-Encoding are forwarded as they came, so the
  // upstream frames the body by them: had Beast framed it otherwise, the two
  // would disagree on where the next request starts (request smuggling).
  bool hasTe = req.find(bhttp::field::transfer_encoding) != req.end();
  bool hasLength = req.find(bhttp::field::content_length) != req.end();
  if (hasTe != parser.chunked() || hasLength != static_cast<bool>(parser.content_length())) {
    __builtin_trap();
  }
  weft::proxy::http::isUpgrade(req);
  weft::proxy::http::removeHopByHop(req, false);
  // Stream the body through a small buffer, as the proxy does.
  char chunk[64];
  std::string_view rest = input.substr(used);
  for (int i = 0; i < 100000 && !parser.is_done() && !rest.empty(); ++i) {
    req.body().data = chunk;
    req.body().size = sizeof(chunk);
    std::size_t n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      return 0;
    }
    rest.remove_prefix(n);
    if (n == 0 && req.body().size == sizeof(chunk)) {
      break;  // needs more input than we have
    }
  }
  return 0;
}
