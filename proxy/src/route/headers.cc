// Header name/value validation and the set/add/remove applicator.
#include "proxy/src/route/headers.h"

#include <algorithm>
#include <array>

#include "common/strings.h"

namespace weft::proxy::route {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

Result<void> checkName(std::string_view field, std::string_view name) {
  if (!isValidHeaderName(name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(field) + ": invalid header name \"" + std::string(name) + "\"");
  }
  if (isProtectedHeader(name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(field) + ": header \"" + std::string(name) +
                         "\" frames the message and may not be changed");
  }
  return okResult();
}

}  // namespace

std::string toLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool isValidHeaderName(std::string_view name) { return isToken(name); }

bool isValidHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool isProtectedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kProtected = {
      "connection", "content-length", "keep-alive",        "proxy-connection",
      "te",         "trailer",        "transfer-encoding", "upgrade"};
  return std::any_of(kProtected.begin(), kProtected.end(),
                     [&](std::string_view p) { return equalsIgnoreCase(p, name); });
}

Result<HeaderModifier> HeaderModifier::create(HeaderModifierSettings settings) {
  HeaderModifier modifier;
  for (auto& field : settings.set) {
    // Named references rather than structured bindings: clang 14 cannot
    // capture bindings in lambdas.
    std::string& name = field.first;
    std::string& value = field.second;
    if (auto r = checkName("set", name); !r) {
      return r.error();
    }
    if (!isValidHeaderValue(value)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "set: invalid value for header \"" + name + "\"");
    }
    const bool duplicate =
        std::any_of(modifier.set_.begin(), modifier.set_.end(),
                    [&](const auto& kv) { return equalsIgnoreCase(kv.first, name); });
    if (duplicate) {
      return makeError(ErrorCode::kInvalidArgument, "set: header \"" + name + "\" listed twice");
    }
    modifier.set_.emplace_back(std::move(name), std::move(value));
  }
  for (auto& [name, value] : settings.add) {
    if (auto r = checkName("add", name); !r) {
      return r.error();
    }
    if (!isValidHeaderValue(value)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "add: invalid value for header \"" + name + "\"");
    }
    modifier.add_.emplace_back(std::move(name), std::move(value));
  }
  for (auto& name : settings.remove) {
    if (auto r = checkName("remove", name); !r) {
      return r.error();
    }
    const bool duplicate = std::any_of(modifier.remove_.begin(), modifier.remove_.end(),
                                       [&](const auto& n) { return equalsIgnoreCase(n, name); });
    if (duplicate) {
      return makeError(ErrorCode::kInvalidArgument, "remove: header \"" + name + "\" listed twice");
    }
    modifier.remove_.push_back(std::move(name));
  }
  return modifier;
}

void HeaderModifier::apply(HeaderMap& headers) const {
  for (const auto& name : remove_) {
    headers.remove(name);
  }
  for (const auto& [name, value] : set_) {
    headers.set(name, value);
  }
  for (const auto& [name, value] : add_) {
    headers.add(name, value);
  }
}

}  // namespace weft::proxy::route
