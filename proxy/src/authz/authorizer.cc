// Authorization rules: compile once per Inbound document, check per request.
#include "proxy/src/authz/authorizer.h"

#include <algorithm>

namespace weft::proxy::authz {
namespace {

route::PathMatch toRoute(const api::PathMatch& p) {
  route::PathMatch m;
  m.value = p.value;
  switch (p.type) {
    case api::PathMatchType::kExact:
      m.type = route::PathMatch::Type::kExact;
      break;
    case api::PathMatchType::kPathPrefix:
      m.type = route::PathMatch::Type::kPathPrefix;
      break;
    case api::PathMatchType::kRegularExpression:
      m.type = route::PathMatch::Type::kRegularExpression;
      break;
  }
  return m;
}

template <class T, class V>
bool anyOrContains(const std::vector<T>& list, const V& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::optional<std::string_view> namespaceOf(std::string_view id) {
  constexpr std::string_view kScheme = "spiffe://";
  if (id.substr(0, kScheme.size()) != kScheme) {
    return std::nullopt;
  }
  auto rest = id.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return std::nullopt;
  }
  rest.remove_prefix(slash);
  if (rest.substr(0, 4) != "/ns/") {
    return std::nullopt;
  }
  rest.remove_prefix(4);
  auto end = rest.find('/');
  if (end == 0 || end == std::string_view::npos || rest.substr(end, 4) != "/sa/") {
    return std::nullopt;
  }
  return rest.substr(0, end);
}

Result<Authorizer> Authorizer::create(const api::Authorization& authorization) {
  Authorizer a;
  for (std::size_t i = 0; i < authorization.rules.size(); ++i) {
    const auto& in = authorization.rules[i];
    Rule r{in.action, in.from.identities, in.from.namespaces, in.ports, in.methods, {}};
    for (std::size_t j = 0; j < in.paths.size(); ++j) {
      auto m = route::PathMatcher::create(toRoute(in.paths[j]));
      if (!m) {
        return m.error().context("authorization.rules[" + std::to_string(i) + "].paths[" +
                                 std::to_string(j) + "]");
      }
      r.paths.push_back(std::move(*m));
    }
    a.anyAllow_ = a.anyAllow_ || r.action == api::AuthzAction::kAllow;
    a.rules_.push_back(std::move(r));
  }
  return a;
}

bool Authorizer::Rule::matches(const Request& r) const {
  // A rule naming callers never matches a caller without identity.
  if (!identities.empty() || !namespaces.empty()) {
    if (!r.peer) {
      return false;
    }
    auto ns = namespaceOf(*r.peer);
    bool byId = !identities.empty() &&
                std::find(identities.begin(), identities.end(), *r.peer) != identities.end();
    bool byNs = ns && !namespaces.empty() &&
                std::find(namespaces.begin(), namespaces.end(), *ns) != namespaces.end();
    if (!byId && !byNs) {
      return false;
    }
  }
  if (!anyOrContains(ports, r.port)) {
    return false;
  }
  if (!methods.empty() && (!r.method || !anyOrContains(methods, *r.method))) {
    return false;
  }
  if (!paths.empty()) {
    if (!r.path) {
      return false;
    }
    if (std::none_of(paths.begin(), paths.end(),
                     [&](const route::PathMatcher& m) { return m.test(*r.path); })) {
      return false;
    }
  }
  return true;
}

Decision Authorizer::check(const Request& request) const {
  std::string who = request.peer ? std::string(*request.peer) : std::string("plaintext caller");
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].action == api::AuthzAction::kDeny && rules_[i].matches(request)) {
      return {false, "denied by authorization rule " + std::to_string(i) + " (DENY) for " + who};
    }
  }
  if (!anyAllow_) {
    return {};
  }
  for (const auto& rule : rules_) {
    if (rule.action == api::AuthzAction::kAllow && rule.matches(request)) {
      return {};
    }
  }
  return {false, "no authorization rule allows " + who};
}

}  // namespace weft::proxy::authz
