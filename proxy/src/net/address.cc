// Endpoint parsing and SO_ORIGINAL_DST.
#include "proxy/src/net/address.h"

#include <charconv>
#include <cstring>

#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace weft::proxy::net {

Result<Tcp::endpoint> parseEndpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) {
    return makeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "': expected IP:PORT");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view portText = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, err] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (err != std::errc() || end != portText.data() + portText.size() || port > 65535) {
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(text) + "': bad port '" + std::string(portText) + "'");
  }
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "': '" +
                                                      std::string(host) + "' is not an IP address");
  }
  return Tcp::endpoint(addr, static_cast<unsigned short>(port));
}

std::string toString(const Tcp::endpoint& ep) {
  if (ep.address().is_v6()) {
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  }
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

Tcp::endpoint originalDestination(Tcp::socket& socket, bool& redirected) {
  redirected = false;
  boost::system::error_code ec;
  auto local = socket.local_endpoint(ec);
  int fd = socket.native_handle();
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int rc = local.address().is_v6() ? ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len)
                                   : ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0) {
    return local;
  }
  Tcp::endpoint dst;
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    boost::asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), &in->sin_addr, 4);
    dst = Tcp::endpoint(boost::asio::ip::address_v4(b), ntohs(in->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    boost::asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    dst = Tcp::endpoint(boost::asio::ip::address_v6(b), ntohs(in6->sin6_port));
  } else {
    return local;
  }
  // Without a redirect, conntrack reports the local address itself.
  redirected = dst != local;
  return dst;
}

}  // namespace weft::proxy::net
