// Enum names, retry overrides and authority parsing for the api documents.
#include "common/api/documents.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <arpa/inet.h>

namespace weft::api {

const char* toString(Protocol value) { return value == Protocol::kHttp ? "http" : "tcp"; }

const char* toString(LoadBalancerKind value) {
  switch (value) {
    case LoadBalancerKind::kP2cEwma:
      return "p2c-ewma";
    case LoadBalancerKind::kRoundRobin:
      return "round-robin";
    case LoadBalancerKind::kLeastRequest:
      return "least-request";
  }
  return "?";
}

const char* toString(PathMatchType value) {
  switch (value) {
    case PathMatchType::kExact:
      return "Exact";
    case PathMatchType::kPathPrefix:
      return "PathPrefix";
    case PathMatchType::kRegularExpression:
      return "RegularExpression";
  }
  return "?";
}

const char* toString(ValueMatchType value) {
  switch (value) {
    case ValueMatchType::kExact:
      return "Exact";
    case ValueMatchType::kRegularExpression:
      return "RegularExpression";
    case ValueMatchType::kPresent:
      return "Present";
  }
  return "?";
}

const char* toString(MtlsMode value) {
  return value == MtlsMode::kPermissive ? "PERMISSIVE" : "STRICT";
}

const char* toString(AuthzAction value) { return value == AuthzAction::kAllow ? "ALLOW" : "DENY"; }

std::string toString(const RetryOn& value) {
  switch (value.kind) {
    case RetryOn::Kind::kConnectFailure:
      return "connect-failure";
    case RetryOn::Kind::kReset:
      return "reset";
    case RetryOn::Kind::kServerError:
      return "5xx";
    case RetryOn::Kind::kGatewayError:
      return "gateway-error";
    case RetryOn::Kind::kStatus:
      return std::to_string(value.status);
  }
  return "?";
}

Retries applyOverride(const Retries& base, const RetryOverride& override) {
  Retries out = base;
  if (override.attempts) {
    out.attempts = *override.attempts;
  }
  if (override.on) {
    out.on = *override.on;
  }
  if (override.nonIdempotent) {
    out.nonIdempotent = *override.nonIdempotent;
  }
  if (override.backoff) {
    out.backoff = *override.backoff;
  }
  return out;
}

std::string HostPort::str() const {
  if (isIpv6) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

namespace {

Error bad(std::string_view text, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid address \"" + std::string(text.substr(0, 300)) + "\": " + why);
}

std::optional<std::uint16_t> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
    return std::nullopt;
  }
  unsigned v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v < 1 || v > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(v);
}

// A DNS name per RFC 1123: labels of letters, digits and '-', not starting or ending with '-'.
bool isDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find('.', start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    start = end + 1;
  }
  // A numeric last label ("999.1.1.1") is a mistyped IP address, not a name.
  std::string_view last = s.substr(s.rfind('.') == std::string_view::npos ? 0 : s.rfind('.') + 1);
  return !std::all_of(last.begin(), last.end(), ::isdigit);
}

std::optional<std::string> canonicalIp(const std::string& text, int family) {
  unsigned char buf[16];
  if (inet_pton(family, text.c_str(), buf) != 1) {
    return std::nullopt;
  }
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, buf, out, sizeof(out)) == nullptr) {
    return std::nullopt;
  }
  return std::string(out);
}

Result<HostPort> parse(std::string_view text, bool allowNames) {
  if (text.empty()) {
    return bad(text, "empty");
  }
  if (text.size() > 300) {
    return bad(text, "too long");
  }
  HostPort out;
  std::string_view portText;
  if (text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad(text, "expected [IPv6]:port");
    }
    auto ip = canonicalIp(std::string(text.substr(1, close - 1)), AF_INET6);
    if (!ip) {
      return bad(text, "not an IPv6 address in brackets");
    }
    out.host = *ip;
    out.isIp = true;
    out.isIpv6 = true;
    portText = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return bad(text, "expected host:port");
    }
    std::string host(text.substr(0, colon));
    portText = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return bad(text, "an IPv6 address needs brackets: [addr]:port");
    }
    if (auto ip = canonicalIp(host, AF_INET)) {
      out.host = *ip;
      out.isIp = true;
    } else {
      if (!allowNames) {
        return bad(text, "expected an IPv4 or [IPv6] address with a port");
      }
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!host.empty() && host.back() == '.') {
        host.pop_back();
      }
      if (!isDnsName(host)) {
        return bad(text, "host is neither an IP address nor a DNS name");
      }
      out.host = std::move(host);
    }
  }
  auto port = parsePort(portText);
  if (!port) {
    return bad(text, "port must be 1..65535");
  }
  out.port = *port;
  return out;
}

}  // namespace

Result<HostPort> parseAuthority(std::string_view text) { return parse(text, true); }

Result<HostPort> parseIpPort(std::string_view text) { return parse(text, false); }

}  // namespace weft::api
