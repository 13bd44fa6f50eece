// Regex over RE2, kept out of the header so RE2 stays private to this library.
#include "proxy/src/route/regex.h"

#include <re2/re2.h>

namespace weft::proxy::route {

Regex::Regex(std::string pattern, std::unique_ptr<re2::RE2> re)
    : pattern_(std::move(pattern)), re_(std::move(re)) {}

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Result<Regex> Regex::compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return makeError(ErrorCode::kInvalidArgument, "regular expression longer than 4096 bytes");
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid regular expression \"" + std::string(pattern) + "\": " + re->error());
  }
  return Regex(std::string(pattern), std::move(re));
}

bool Regex::fullMatch(std::string_view input) const {
  return re_ != nullptr && re2::RE2::FullMatch(re2::StringPiece(input.data(), input.size()), *re_);
}

}  // namespace weft::proxy::route
