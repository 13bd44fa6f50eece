// Validation of the config.weft.io/* override annotations.
#include "webhook/src/inject/overrides.h"

#include <array>
#include <cctype>
#include <cmath>
#include <vector>

#include <arpa/inet.h>

#include "common/strings.h"

namespace weft::webhook::inject {
namespace {

constexpr std::size_t kMaxAnnotationValue = 4096;

std::vector<std::string_view> splitComma(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    auto pos = s.find(',');
    parts.push_back(trimSpace(s.substr(0, pos)));
    if (pos == std::string_view::npos) {
      break;
    }
    s.remove_prefix(pos + 1);
  }
  return parts;
}

bool allDigits(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

Result<int> parsePort(std::string_view s) {
  if (!allDigits(s) || s.size() > 5) {
    return makeError(ErrorCode::kInvalidArgument, "'" + std::string(s) + "' is not a port");
  }
  int port = 0;
  for (char c : s) {
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) {
    return makeError(ErrorCode::kInvalidArgument, "port " + std::string(s) + " is outside 1-65535");
  }
  return port;
}

Result<std::string> parseCidr(std::string_view s) {
  auto slash = s.find('/');
  std::string addr(s.substr(0, slash));
  std::array<unsigned char, 16> buf{};
  int maxBits = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf.data()) == 1) {
    maxBits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), buf.data()) == 1) {
    maxBits = 128;
  } else {
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(s) + "' is not an IPv4 or IPv6 address");
  }
  if (slash == std::string_view::npos) {
    return addr + "/" + std::to_string(maxBits);
  }
  std::string_view bits = s.substr(slash + 1);
  if (!allDigits(bits) || bits.size() > 3 || std::stoi(std::string(bits)) > maxBits) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "'" + std::string(s) + "' has a bad prefix length (0-" + std::to_string(maxBits) + ")");
  }
  return std::string(s);
}

std::string quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value.substr(0, 64)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (value.size() > 64) {
    out += "...";
  }
  return out + "\"";
}

}  // namespace

Result<Quantity> parseQuantity(std::string_view text) {
  // Grammar of k8s.io/apimachinery/pkg/api/resource: number, then a binary
  // suffix (Ki..Ei), a decimal SI suffix (n, u, m, "", k, M..E) or an exponent.
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
  }
  std::size_t i = 0;
  std::string digits;
  bool sawDigit = false;
  bool sawDot = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    if (s[i] == '.') {
      if (sawDot) {
        return makeError(ErrorCode::kInvalidArgument, "two decimal points");
      }
      sawDot = true;
    } else {
      sawDigit = true;
    }
    digits += s[i];
    ++i;
  }
  if (!sawDigit) {
    return makeError(ErrorCode::kInvalidArgument, "no number (negative values are refused)");
  }
  if (digits.size() > 30) {
    return makeError(ErrorCode::kInvalidArgument, "number too long");
  }
  long double value = std::stold(digits);
  std::string_view suffix = s.substr(i);
  static const std::array<std::pair<std::string_view, long double>, 13> kSuffixes{{
      {"", 1.0L},
      {"n", 1e-9L},
      {"u", 1e-6L},
      {"m", 1e-3L},
      {"k", 1e3L},
      {"M", 1e6L},
      {"G", 1e9L},
      {"T", 1e12L},
      {"P", 1e15L},
      {"E", 1e18L},
      {"Ki", 1024.0L},
      {"Mi", 1024.0L * 1024},
      {"Gi", 1024.0L * 1024 * 1024},
  }};
  static const std::array<std::pair<std::string_view, long double>, 3> kBigBinary{{
      {"Ti", 1099511627776.0L},
      {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L},
  }};
  bool known = false;
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) {
      value *= factor;
      known = true;
    }
  }
  for (const auto& [name, factor] : kBigBinary) {
    if (suffix == name) {
      value *= factor;
      known = true;
    }
  }
  if (!known && suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exp = suffix.substr(1);
    bool negative = false;
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
      negative = exp[0] == '-';
      exp.remove_prefix(1);
    }
    if (allDigits(exp) && exp.size() <= 2) {
      int e = std::stoi(std::string(exp));
      value *= std::pow(10.0L, negative ? -e : e);
      known = true;
    }
  }
  if (!known) {
    return makeError(ErrorCode::kInvalidArgument, "unknown suffix '" + std::string(suffix) + "'");
  }
  return Quantity{std::string(text), value};
}

Result<std::string> parsePortList(std::string_view text) {
  std::string out;
  for (std::string_view part : splitComma(text)) {
    if (part.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "empty entry");
    }
    auto dash = part.find('-');
    auto first = parsePort(trimSpace(part.substr(0, dash)));
    if (!first) {
      return first.error();
    }
    std::string item = std::to_string(*first);
    if (dash != std::string_view::npos) {
      auto last = parsePort(trimSpace(part.substr(dash + 1)));
      if (!last) {
        return last.error();
      }
      if (*last < *first) {
        return makeError(ErrorCode::kInvalidArgument,
                         "range " + std::string(part) + " ends before it starts");
      }
      item += "-" + std::to_string(*last);
    }
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

Result<std::string> parseCidrList(std::string_view text) {
  std::string out;
  for (std::string_view part : splitComma(text)) {
    if (part.empty()) {
      return makeError(ErrorCode::kInvalidArgument, "empty entry");
    }
    auto cidr = parseCidr(part);
    if (!cidr) {
      return cidr.error();
    }
    out += (out.empty() ? "" : ",") + *cidr;
  }
  return out;
}

Result<Overrides> parseOverrides(const std::map<std::string, std::string>& annotations) {
  Overrides out;
  std::vector<std::string> problems;
  auto lookup = [&](std::string_view key) -> const std::string* {
    auto it = annotations.find(std::string(key));
    return it == annotations.end() ? nullptr : &it->second;
  };
  auto fail = [&](std::string_view key, const std::string& value, const std::string& why,
                  std::string_view accepted) {
    problems.push_back("annotation " + std::string(key) + "=" + quote(value) + " is invalid (" +
                       why + "); accepted: " + std::string(accepted));
  };
  auto tooLong = [&](std::string_view key, const std::string& value) {
    if (value.size() <= kMaxAnnotationValue) {
      return false;
    }
    fail(key, value, "longer than 4096 bytes", "a shorter value");
    return true;
  };

  constexpr std::string_view kQuantityForm =
      "a Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi";
  auto quantity = [&](std::string_view key, std::optional<Quantity>& into) {
    if (const auto* v = lookup(key); v && !tooLong(key, *v)) {
      auto q = parseQuantity(trimSpace(*v));
      if (q) {
        into = *q;
      } else {
        fail(key, *v, q.error().message, kQuantityForm);
      }
    }
  };
  quantity(kCpuRequestAnnotation, out.cpuRequest);
  quantity(kCpuLimitAnnotation, out.cpuLimit);
  quantity(kMemoryRequestAnnotation, out.memoryRequest);
  quantity(kMemoryLimitAnnotation, out.memoryLimit);

  auto ports = [&](std::string_view key, std::string& into) {
    if (const auto* v = lookup(key); v && !tooLong(key, *v)) {
      auto p = parsePortList(*v);
      if (p) {
        into = *p;
      } else {
        fail(key, *v, p.error().message,
             "comma-separated ports or ranges in 1-65535, e.g. 8080,9000-9100");
      }
    }
  };
  ports(kSkipInboundPortsAnnotation, out.skipInboundPorts);
  ports(kSkipOutboundPortsAnnotation, out.skipOutboundPorts);

  if (const auto* v = lookup(kSkipOutboundCidrsAnnotation);
      v && !tooLong(kSkipOutboundCidrsAnnotation, *v)) {
    auto c = parseCidrList(*v);
    if (c) {
      out.skipOutboundCidrs = *c;
    } else {
      fail(kSkipOutboundCidrsAnnotation, *v, c.error().message,
           "comma-separated IPv4/IPv6 CIDRs, e.g. 10.0.0.0/8,fd00::/8");
    }
  }

  if (const auto* v = lookup(kLogLevelAnnotation)) {
    static const std::array<std::string_view, 7> kLevels{"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};
    bool valid = false;
    for (auto level : kLevels) {
      valid = valid || *v == level;
    }
    if (valid) {
      out.logLevel = *v;
    } else {
      fail(kLogLevelAnnotation, *v, "unknown level",
           "one of trace, debug, info, warn, error, critical, off");
    }
  }

  auto checkOrder = [&](const std::optional<Quantity>& request,
                        const std::optional<Quantity>& limit, std::string_view requestKey,
                        std::string_view limitKey) {
    if (request && limit && request->value > limit->value) {
      problems.push_back("annotation " + std::string(requestKey) + "=" + quote(request->text) +
                         " is larger than " + std::string(limitKey) + "=" + quote(limit->text) +
                         "; accepted: a request no larger than the limit");
    }
  };
  checkOrder(out.cpuRequest, out.cpuLimit, kCpuRequestAnnotation, kCpuLimitAnnotation);
  checkOrder(out.memoryRequest, out.memoryLimit, kMemoryRequestAnnotation, kMemoryLimitAnnotation);

  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) {
      message += (message.empty() ? "" : "; ") + p;
    }
    return makeError(ErrorCode::kInvalidArgument, message);
  }
  return out;
}

}  // namespace weft::webhook::inject
