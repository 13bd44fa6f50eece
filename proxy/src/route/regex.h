// Regex: a precompiled RE2 pattern matched against the whole input, in linear time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace weft::proxy::route {

// RE2 (not std::regex) because the input comes from the network: RE2 runs in
// time linear in the input and never recurses per character, so no path or
// header can stall or crash a worker. RE2 syntax (no backreferences).
// Immutable after compile(); matching is thread-safe.
class Regex {
 public:
  static constexpr std::size_t kMaxPatternBytes = 4096;

  static Result<Regex> compile(std::string_view pattern);

  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // True when the whole input matches (as Gateway API's RegularExpression).
  bool fullMatch(std::string_view input) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex(std::string pattern, std::unique_ptr<re2::RE2> re);

  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace weft::proxy::route
