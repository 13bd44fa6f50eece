// Small ASCII string helpers shared by every part (parsing flags, headers,
// query strings). No locale: the inputs are protocol text.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace weft {

// Strips spaces and tabs (HTTP's optional whitespace) from both ends.
std::string_view trimOws(std::string_view s);

// Strips all ASCII whitespace (space, \t, \n, \v, \f, \r) from both ends.
std::string_view trimSpace(std::string_view s);

// An RFC 9110 token (field names, transfer codings): one or more tchars.
bool isToken(std::string_view s);

// 0-15 for a hex digit of either case, -1 otherwise.
int hexDigitValue(char c);

// Percent-encodes everything but RFC 3986 unreserved characters and `keep`.
std::string percentEncode(std::string_view s, std::string_view keep = {});

// Standard base64 with padding (Kubernetes Secret data).
std::string base64Encode(std::string_view in);
// Standard or URL-safe alphabet; padding and line breaks are skipped.
Result<std::string> base64Decode(std::string_view in);

}  // namespace weft
