// RouteTable: compiling route settings into matchers, and matching requests against them.
#include "proxy/src/route/route_table.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/strings.h"

namespace weft::proxy::route {

namespace {

// Splits an origin-form target into path and query (the fragment, never sent
// by conforming clients, is dropped).
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  const auto hash = target.find('#');
  if (hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  const auto question = target.find('?');
  if (question == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, question), target.substr(question + 1)};
}

Error invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hexDigitValue(text[i + 1]);
      const int lo = hexDigitValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::optional<std::string> findQueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    const std::string_view rawName = pair.substr(0, eq);
    const std::string_view rawValue =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (percentDecode(rawName) == name) {
      return percentDecode(rawValue);
    }
  }
  return std::nullopt;
}

// Matchers

bool Route::ValueMatcher::test(std::optional<std::string_view> actual) const {
  if (!actual) {
    return false;
  }
  switch (type) {
    case ValueMatchType::kPresent:
      return true;
    case ValueMatchType::kExact:
      return *actual == value;
    case ValueMatchType::kRegularExpression:
      return regex && regex->fullMatch(*actual);
  }
  return false;
}

Result<PathMatcher> PathMatcher::create(const PathMatch& match) {
  PathMatcher m;
  m.type_ = match.type;
  m.value_ = match.value;
  if (m.type_ == PathMatch::Type::kRegularExpression) {
    auto re = Regex::compile(m.value_);
    if (!re) {
      return re.error();
    }
    m.regex_ = std::move(*re);
    return m;
  }
  if (m.value_.empty() || m.value_.front() != '/') {
    return makeError(ErrorCode::kInvalidArgument, "value must start with \"/\"");
  }
  if (m.type_ == PathMatch::Type::kPathPrefix) {
    while (!m.value_.empty() && m.value_.back() == '/') {
      m.value_.pop_back();
    }
  }
  return m;
}

bool PathMatcher::test(std::string_view path) const {
  switch (type_) {
    case PathMatch::Type::kExact:
      return path == value_;
    case PathMatch::Type::kPathPrefix:
      // value has no trailing slash ("" for "/"), so the next character must
      // end the segment.
      return path.substr(0, value_.size()) == value_ &&
             (path.size() == value_.size() || path[value_.size()] == '/');
    case PathMatch::Type::kRegularExpression:
      return regex_ && regex_->fullMatch(path);
  }
  return false;
}

bool Route::Matcher::test(std::string_view requestMethod, std::string_view pathPart,
                          std::string_view query, const HeaderMap& requestHeaders) const {
  if (path && !path->test(pathPart)) {
    return false;
  }
  if (!method.empty() && method != requestMethod) {
    return false;
  }
  for (const auto& header : headers) {
    if (!header.test(requestHeaders.get(header.name))) {
      return false;
    }
  }
  for (const auto& param : queryParams) {
    const auto value = findQueryParam(query, param.name);
    if (!param.test(value ? std::optional<std::string_view>(*value) : std::nullopt)) {
      return false;
    }
  }
  return true;
}

bool Route::matches(const RequestView& request) const {
  if (matchers_.empty()) {
    return true;
  }
  const auto parts = splitTarget(request.target);
  return std::any_of(matchers_.begin(), matchers_.end(), [&](const Matcher& m) {
    return m.test(request.method, parts.first, parts.second, request.headers);
  });
}

const BackendRef* Route::chooseBackend(resilience::Random& random) const {
  if (totalWeight_ == 0) {
    return nullptr;
  }
  std::uint64_t r = random.uniform(totalWeight_);
  for (const auto& backend : backends_) {
    if (r < backend.weight) {
      return &backend;
    }
    r -= backend.weight;
  }
  return nullptr;  // unreachable: r < totalWeight_
}

bool Route::shouldMirror(resilience::Random& random) const {
  return mirror_ && random.chance(mirror_->percent);
}

// Compilation

Result<RouteTable> RouteTable::create(std::vector<RouteSettings> routes,
                                      const std::string& defaultBackend) {
  if (defaultBackend.empty()) {
    return invalid("routes: the default backend name is empty");
  }
  if (routes.empty()) {
    RouteSettings all;
    all.name = "default";
    routes.push_back(std::move(all));
  }
  RouteTable table;
  table.routes_.reserve(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    RouteSettings& settings = routes[i];
    const std::string where = "routes[" + std::to_string(i) + "]" +
                              (settings.name.empty() ? "" : " (" + settings.name + ")");
    Route route;
    route.name_ = std::move(settings.name);

    for (std::size_t m = 0; m < settings.matches.size(); ++m) {
      MatchSettings& match = settings.matches[m];
      const std::string at = where + ".matches[" + std::to_string(m) + "]";
      Route::Matcher matcher;
      if (match.path) {
        auto path = PathMatcher::create(*match.path);
        if (!path) {
          return path.error().context(at + ".path");
        }
        matcher.path = std::move(*path);
      }
      if (!match.method.empty()) {
        if (!isValidHeaderName(match.method)) {  // a method is a token too
          return invalid(at + ".method: invalid method \"" + match.method + "\"");
        }
        matcher.method = std::move(match.method);
      }
      for (auto& header : match.headers) {
        if (!isValidHeaderName(header.name)) {
          return invalid(at + ".headers: invalid header name \"" + header.name + "\"");
        }
        const std::string lowered = toLower(header.name);
        const bool duplicate =
            std::any_of(matcher.headers.begin(), matcher.headers.end(),
                        [&](const Route::ValueMatcher& v) { return v.name == lowered; });
        if (duplicate) {
          return invalid(at + ".headers: header \"" + header.name + "\" listed twice");
        }
        Route::ValueMatcher value{lowered, header.type, std::move(header.value), std::nullopt};
        if (value.type == ValueMatchType::kRegularExpression) {
          auto re = Regex::compile(value.value);
          if (!re) {
            return re.error().context(at + ".headers[" + header.name + "]");
          }
          value.regex = std::move(*re);
        }
        matcher.headers.push_back(std::move(value));
      }
      for (auto& param : match.queryParams) {
        if (param.name.empty()) {
          return invalid(at + ".queryParams: empty name");
        }
        const bool duplicate =
            std::any_of(matcher.queryParams.begin(), matcher.queryParams.end(),
                        [&](const Route::ValueMatcher& v) { return v.name == param.name; });
        if (duplicate) {
          return invalid(at + ".queryParams: parameter \"" + param.name + "\" listed twice");
        }
        Route::ValueMatcher value{std::move(param.name), param.type, std::move(param.value),
                                  std::nullopt};
        if (value.type == ValueMatchType::kRegularExpression) {
          auto re = Regex::compile(value.value);
          if (!re) {
            return re.error().context(at + ".queryParams[" + value.name + "]");
          }
          value.regex = std::move(*re);
        }
        matcher.queryParams.push_back(std::move(value));
      }
      route.matchers_.push_back(std::move(matcher));
    }

    if (settings.backends.empty()) {
      settings.backends.push_back(BackendRef{defaultBackend, 1});
    }
    for (auto& backend : settings.backends) {
      if (backend.name.empty()) {
        return invalid(where + ".backends: empty backend name");
      }
      if (backend.weight > kMaxWeight) {
        return invalid(where + ".backends: weight of \"" + backend.name + "\" above 1000000");
      }
      route.totalWeight_ += backend.weight;
    }
    route.backends_ = std::move(settings.backends);

    if (settings.timeout && *settings.timeout < Clock::Duration::zero()) {
      return invalid(where + ".timeout: negative");
    }
    route.timeout_ = settings.timeout;
    if (settings.retries) {
      if (auto r = resilience::validate(*settings.retries); !r) {
        return r.error().context(where);
      }
      route.retries_ = std::move(settings.retries);
    }
    auto requestHeaders = HeaderModifier::create(std::move(settings.requestHeaders));
    if (!requestHeaders) {
      return requestHeaders.error().context(where + ".requestHeaders");
    }
    route.requestHeaders_ = std::move(*requestHeaders);
    auto responseHeaders = HeaderModifier::create(std::move(settings.responseHeaders));
    if (!responseHeaders) {
      return responseHeaders.error().context(where + ".responseHeaders");
    }
    route.responseHeaders_ = std::move(*responseHeaders);
    if (auto r = validate(settings.fault); !r) {
      return r.error().context(where);
    }
    route.fault_ = settings.fault;
    if (settings.mirror) {
      const double p = settings.mirror->percent;
      if (settings.mirror->backend.empty()) {
        return invalid(where + ".mirror.backend: empty");
      }
      if (!std::isfinite(p) || p < 0.0 || p > 100.0) {
        return invalid(where + ".mirror.percent must be within [0, 100]");
      }
      route.mirror_ = std::move(settings.mirror);
    }
    table.routes_.push_back(std::move(route));
  }
  return table;
}

const Route* RouteTable::match(const RequestView& request) const {
  for (const auto& route : routes_) {
    if (route.matches(request)) {
      return &route;
    }
  }
  return nullptr;
}

}  // namespace weft::proxy::route
