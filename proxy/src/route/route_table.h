// RouteTable: HTTPRoute-shaped request matching, weighted backend choice and per-route settings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "proxy/src/resilience/random.h"
#include "proxy/src/resilience/retry.h"
#include "proxy/src/route/fault.h"
#include "proxy/src/route/headers.h"
#include "proxy/src/route/regex.h"

namespace weft::proxy::route {

// routes[].matches[].path: {type: Exact | PathPrefix | RegularExpression, value}.
// PathPrefix is segment-aware: /api matches /api, /api/ and /api/x, never
// /apix; a trailing slash in the value is ignored; "/" matches every path.
// RegularExpression must match the whole path (RE2 syntax).
struct PathMatch {
  enum class Type { kExact, kPathPrefix, kRegularExpression };
  Type type = Type::kPathPrefix;
  std::string value = "/";
};

// A compiled PathMatch; also used by authorization rules. Immutable.
class PathMatcher {
 public:
  // Refuses a bad regular expression or a value not starting with "/".
  static Result<PathMatcher> create(const PathMatch& match);
  bool test(std::string_view path) const;

 private:
  PathMatch::Type type_ = PathMatch::Type::kPathPrefix;
  std::string value_;  // PathPrefix: without the trailing slash
  std::optional<Regex> regex_;
};

// routes[].matches[].headers[].type and queryParams[].type.
enum class ValueMatchType { kExact, kRegularExpression, kPresent };

// Header names compare case-insensitively, values exactly.
struct HeaderMatch {
  std::string name;
  ValueMatchType type = ValueMatchType::kExact;
  std::string value;
};

// Names and values compare exactly after percent-decoding ("+" stays a
// plus); the first occurrence of a repeated parameter counts.
struct QueryParamMatch {
  std::string name;
  ValueMatchType type = ValueMatchType::kExact;
  std::string value;
};

// routes[].matches[]: every given condition must hold.
struct MatchSettings {
  std::optional<PathMatch> path;
  std::string method;  // empty: any; otherwise exact and case-sensitive ("GET")
  std::vector<HeaderMatch> headers;
  std::vector<QueryParamMatch> queryParams;
};

// routes[].backends[]: {name, weight}. Weight 0 sends nothing (a canary at 0 %).
struct BackendRef {
  std::string name;
  std::uint32_t weight = 1;
};

// routes[].mirror: {backend, percent}.
struct MirrorSettings {
  std::string backend;
  double percent = 100;
};

// routes[] in docs/api.md. `retries` is already merged over policy.retries by
// the caller ("fields given" override).
struct RouteSettings {
  std::string name;
  std::vector<MatchSettings> matches;      // empty: every request; several: any of them
  std::vector<BackendRef> backends;        // empty: the backend named like the authority
  std::optional<Clock::Duration> timeout;  // overrides policy.timeouts.request; zero = none
  std::optional<resilience::RetrySettings> retries;
  HeaderModifierSettings requestHeaders;
  HeaderModifierSettings responseHeaders;
  FaultSettings fault;
  std::optional<MirrorSettings> mirror;
};

// The parts of a request routing looks at. `target` is the origin-form request
// target ("/path?query"); it is matched as given, not normalised.
struct RequestView {
  std::string_view method;
  std::string_view target;
  const HeaderMap& headers;
};

// One compiled route. Immutable; matching is thread-safe.
class Route {
 public:
  const std::string& name() const { return name_; }
  bool matches(const RequestView& request) const;

  // Weighted choice among the backends; nullptr when every weight is 0 (the
  // caller answers 503).
  const BackendRef* chooseBackend(resilience::Random& random) const;
  std::span<const BackendRef> backends() const { return backends_; }

  const std::optional<Clock::Duration>& timeout() const { return timeout_; }
  const std::optional<resilience::RetrySettings>& retries() const { return retries_; }
  const HeaderModifier& requestHeaders() const { return requestHeaders_; }
  const HeaderModifier& responseHeaders() const { return responseHeaders_; }
  const FaultSettings& fault() const { return fault_; }
  const std::optional<MirrorSettings>& mirror() const { return mirror_; }
  // Whether this request is also sent to the mirror backend.
  bool shouldMirror(resilience::Random& random) const;

 private:
  friend class RouteTable;
  struct ValueMatcher {
    std::string name;
    ValueMatchType type;
    std::string value;
    std::optional<Regex> regex;
    bool test(std::optional<std::string_view> actual) const;
  };
  struct Matcher {
    std::optional<PathMatcher> path;
    std::string method;
    std::vector<ValueMatcher> headers;
    std::vector<ValueMatcher> queryParams;
    bool test(std::string_view method, std::string_view path, std::string_view query,
              const HeaderMap& headers) const;
  };

  std::string name_;
  std::vector<Matcher> matchers_;
  std::vector<BackendRef> backends_;
  std::uint64_t totalWeight_ = 0;
  std::optional<Clock::Duration> timeout_;
  std::optional<resilience::RetrySettings> retries_;
  HeaderModifier requestHeaders_;
  HeaderModifier responseHeaders_;
  FaultSettings fault_;
  std::optional<MirrorSettings> mirror_;
};

// The routes of one destination, in order; the first that matches wins.
// Immutable after create(): share it in a config snapshot across workers.
class RouteTable {
 public:
  static constexpr std::uint32_t kMaxWeight = 1'000'000;  // Gateway API's bound

  // Compiles and validates every route; the error names the route and field.
  // No routes: one route sending everything to defaultBackend.
  static Result<RouteTable> create(std::vector<RouteSettings> routes,
                                   const std::string& defaultBackend);

  // nullptr when routes exist and none matches (the caller answers 404).
  const Route* match(const RequestView& request) const;

  std::span<const Route> routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// The first value of a query parameter, percent-decoded; for tests and core.
std::optional<std::string> findQueryParam(std::string_view query, std::string_view name);
// Percent-decoding; an invalid escape is kept as it is.
std::string percentDecode(std::string_view text);

}  // namespace weft::proxy::route
