// HeaderMap (an abstract view of message headers) and HeaderModifier (set/add/remove).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace weft::proxy::route {

// What routing needs from a request's or response's headers, so that core can
// adapt its own type (Beast fields) without this library knowing it. Names
// compare case-insensitively; implementations keep the case they were given.
class HeaderMap {
 public:
  virtual ~HeaderMap() = default;
  // The first value of the header, if present.
  virtual std::optional<std::string_view> get(std::string_view name) const = 0;
  // Replaces every value of the header with this one (adds it when absent).
  virtual void set(std::string_view name, std::string_view value) = 0;
  // Appends a value, keeping existing ones.
  virtual void add(std::string_view name, std::string_view value) = 0;
  // Removes every value of the header.
  virtual void remove(std::string_view name) = 0;
};

// RFC 9110 token characters.
bool isValidHeaderName(std::string_view name);
// No CR, LF or NUL (nothing that could split or end a header line).
bool isValidHeaderValue(std::string_view value);
// Headers a route may not change, because they frame the message or belong to
// the connection: connection, content-length, keep-alive, proxy-connection, te,
// trailer, transfer-encoding, upgrade. Changing them would allow smuggling.
bool isProtectedHeader(std::string_view name);

// Maps routes[].requestHeaders / responseHeaders in docs/api.md:
// {set: {x-a: b}, add: {x-c: d}, remove: [x-e]}.
struct HeaderModifierSettings {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

// Gateway API's RequestHeaderModifier / ResponseHeaderModifier. Applied in
// the order remove, set, add (as Envoy does), so `remove: [x]` with
// `add: {x: 1}` leaves exactly x: 1. Immutable after create(): share freely.
class HeaderModifier {
 public:
  HeaderModifier() = default;
  // Refuses invalid or protected names, invalid values, and a name listed
  // twice within set, or within remove.
  static Result<HeaderModifier> create(HeaderModifierSettings settings);

  void apply(HeaderMap& headers) const;
  bool empty() const { return set_.empty() && add_.empty() && remove_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> set_;
  std::vector<std::pair<std::string, std::string>> add_;
  std::vector<std::string> remove_;
};

// ASCII lower case, for header names.
std::string toLower(std::string_view text);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace weft::proxy::route
