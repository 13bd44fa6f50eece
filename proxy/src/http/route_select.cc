// First-match routing over path, method, headers and query parameters.
#include "proxy/src/http/route_select.h"

#include <optional>
#include <unordered_map>

#include <boost/beast/core/string.hpp>

#include "proxy/src/route/regex.h"

namespace weft::proxy::http {
namespace {

// Full match with RE2 (linear time on untrusted input), compiled once per
// pattern and worker thread; a pattern that does not compile matches nothing.
bool regexMatch(const std::string& pattern, std::string_view input) {
  thread_local std::unordered_map<std::string, std::optional<route::Regex>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() >= 1024) {
      cache.clear();  // bounded: patterns come from config, which can change
    }
    auto compiled = route::Regex::compile(pattern);
    std::optional<route::Regex> entry;
    if (compiled) {
      entry.emplace(std::move(compiled).value());
    }
    it = cache.emplace(pattern, std::move(entry)).first;
  }
  return it->second && it->second->fullMatch(input);
}

bool matchValue(const api::ValueMatch& m, std::string_view value, bool present) {
  switch (m.type) {
    case api::ValueMatchType::kPresent:
      return present;
    case api::ValueMatchType::kExact:
      return present && value == m.value;
    case api::ValueMatchType::kRegularExpression:
      return present && regexMatch(m.value, value);
  }
  return false;
}

bool matchPath(const api::PathMatch& m, std::string_view path) {
  switch (m.type) {
    case api::PathMatchType::kExact:
      return path == m.value;
    case api::PathMatchType::kPathPrefix: {
      std::string_view prefix = m.value;
      while (prefix.size() > 1 && prefix.back() == '/') {
        prefix.remove_suffix(1);
      }
      if (prefix == "/") {
        return true;
      }
      // Segment-wise: /api matches /api and /api/x, not /apix.
      return path.substr(0, prefix.size()) == prefix &&
             (path.size() == prefix.size() || path[prefix.size()] == '/');
    }
    case api::PathMatchType::kRegularExpression:
      return regexMatch(m.value, path);
  }
  return false;
}

std::string_view queryParam(std::string_view query, std::string_view name, bool& found) {
  found = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      found = true;
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool matches(const api::RouteMatch& m, std::string_view method, std::string_view path,
             std::string_view query, const boost::beast::http::fields& fields) {
  if (m.path && !matchPath(*m.path, path)) {
    return false;
  }
  if (!m.method.empty() && m.method != method) {
    return false;
  }
  for (const auto& h : m.headers) {
    auto it = fields.find(h.name);
    bool present = it != fields.end();
    if (!matchValue(h, present ? it->value() : std::string_view{}, present)) {
      return false;
    }
  }
  for (const auto& q : m.queryParams) {
    bool found = false;
    auto v = queryParam(query, q.name, found);
    if (!matchValue(q, v, found)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Selection selectBackend(const api::Outbound& out, std::string_view method, std::string_view target,
                        const boost::beast::http::fields& fields, std::mt19937_64& rng) {
  Selection sel;
  auto qpos = target.find('?');
  std::string_view path = target.substr(0, qpos);
  std::string_view query =
      qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  for (const auto& r : out.routes) {
    bool hit = r.matches.empty();
    for (const auto& m : r.matches) {
      if (matches(m, method, path, query, fields)) {
        hit = true;
        break;
      }
    }
    if (hit) {
      sel.route = &r;
      break;
    }
  }
  if (sel.route == nullptr || sel.route->backends.empty()) {
    sel.backendName = out.authority;
  } else {
    std::int64_t total = 0;
    for (const auto& b : sel.route->backends) {
      total += b.weight;
    }
    if (total <= 0) {
      return sel;  // every weight zero: nothing may receive traffic
    }
    std::int64_t r = std::uniform_int_distribution<std::int64_t>(0, total - 1)(rng);
    for (const auto& b : sel.route->backends) {
      if ((r -= b.weight) < 0) {
        sel.backendName = b.name;
        break;
      }
    }
  }
  auto it = out.backends.find(sel.backendName);
  if (it != out.backends.end()) {
    sel.backend = &it->second;
  }
  return sel;
}

}  // namespace weft::proxy::http
