// Snapshot indexing and lookups.
#include "proxy/src/config/snapshot.h"

#include <algorithm>
#include <charconv>

#include "common/api/json.h"
#include "common/json/json.h"
#include "proxy/src/route/from_api.h"

namespace weft::proxy::config {
namespace {

// ASCII only and inline: std::tolower is a locale-aware library call, too slow per byte here.
constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

Result<CompiledOutbound> compile(const api::Outbound& o) {
  auto routes = route::routeTableFrom(o);
  if (!routes) {
    return routes.error();
  }
  auto balancer = route::balancerSettingsFrom(o.policy);
  if (!balancer) {
    return balancer.error().context("policy");
  }
  auto retries = route::retrySettingsFrom(o.policy.retries);
  if (!retries) {
    return retries.error().context("policy.retries");
  }
  auto limits = route::limitSettingsFrom(o.policy.circuitBreaker);
  if (!limits) {
    return limits.error().context("policy.circuitBreaker");
  }
  return CompiledOutbound{std::move(routes).value(), *balancer, std::move(retries).value(),
                          *limits};
}

}  // namespace

Result<SnapshotPtr> Snapshot::build(std::vector<api::Outbound> outbounds,
                                    std::optional<api::Inbound> inbound, std::string version) {
  std::shared_ptr<Snapshot> s(new Snapshot());
  s->outbounds_ = std::move(outbounds);
  s->inbound_ = std::move(inbound);
  if (s->inbound_) {
    auto a = authz::Authorizer::create(s->inbound_->authorization);
    if (!a) {
      return a.error().context("Inbound " + s->inbound_->pod);
    }
    s->authorizer_ = std::move(*a);
  }
  s->version_ = std::move(version);
  s->builtAt_ = std::chrono::system_clock::now();
  // Authorities first, so that an alias can never shadow another Outbound's authority.
  for (std::size_t i = 0; i < s->outbounds_.size(); ++i) {
    const auto& o = s->outbounds_[i];
    auto key = api::parseAuthority(o.authority);
    if (!key) {
      return key.error().context("Outbound " + o.authority);
    }
    auto [it, inserted] = s->index_.emplace(key->str(), i);
    if (!inserted) {
      return makeError(ErrorCode::kInvalidArgument,
                       "Outbound " + o.authority + ": authority defined twice");
    }
  }
  for (std::size_t i = 0; i < s->outbounds_.size(); ++i) {
    const auto& o = s->outbounds_[i];
    for (const auto& alias : o.aliases) {
      auto key = api::parseAuthority(alias);
      if (!key) {
        return key.error().context("Outbound " + o.authority);
      }
      auto [it, inserted] = s->index_.emplace(key->str(), i);
      if (!inserted && it->second != i) {
        return makeError(ErrorCode::kInvalidArgument, "Outbound " + o.authority + ": alias " +
                                                          alias + " already names " +
                                                          s->outbounds_[it->second].authority);
      }
    }
  }
  s->compiled_.reserve(s->outbounds_.size());
  for (const auto& o : s->outbounds_) {
    auto compiled = compile(o);
    if (!compiled) {
      return compiled.error().context("Outbound " + o.authority);
    }
    s->compiled_.push_back(std::move(compiled).value());
  }
  return SnapshotPtr(std::move(s));
}

SnapshotPtr Snapshot::empty() {
  auto s = build({}, std::nullopt, "empty");
  return s ? *s : nullptr;
}

const api::Outbound* Snapshot::lookup(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &outbounds_[it->second];
}

const api::Outbound* Snapshot::findOutbound(std::string_view authority,
                                            std::uint16_t defaultPort) const {
  if (authority.empty() || authority.size() > 300) {
    return nullptr;
  }
  if (authority.front() == '[') {
    // IPv6: rare enough to canonicalize through the full parser.
    std::string withPort(authority);
    if (authority.back() == ']') {
      withPort += ":" + std::to_string(defaultPort);
    }
    auto hp = api::parseAuthority(withPort);
    return hp ? lookup(hp->str()) : nullptr;
  }
  std::string_view host = authority;
  std::string_view port;
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || host.find(':') != std::string_view::npos) {
      return nullptr;
    }
  }
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  char buf[320];
  std::size_t n = host.size();
  if (n == 0 || n + 7 > sizeof(buf)) {
    return nullptr;
  }
  std::transform(host.begin(), host.end(), buf, lower);
  buf[n++] = ':';
  if (port.empty()) {
    auto [p, ec] = std::to_chars(buf + n, buf + sizeof(buf), defaultPort);
    n = static_cast<std::size_t>(p - buf);
  } else {
    // Leading zeros ("080") are not the canonical spelling of any key: refuse them.
    if (port.size() > 5 || port.front() == '0') {
      return nullptr;
    }
    std::copy(port.begin(), port.end(), buf + n);
    n += port.size();
  }
  return lookup(std::string_view(buf, n));
}

const api::InboundPort* Snapshot::findInboundPort(std::uint16_t port) const {
  if (!inbound_) {
    return nullptr;
  }
  for (const auto& p : inbound_->ports) {
    if (p.port == port) {
      return &p;
    }
  }
  return nullptr;
}

std::string Snapshot::toJson(int indent) const {
  json::Json outbounds = json::Json::array();
  for (const auto& o : outbounds_) {
    outbounds.push_back(api::toJson(o));
  }
  json::Json doc = {
      {"version", version_},
      {"builtAtUnixMs",
       std::chrono::duration_cast<std::chrono::milliseconds>(builtAt_.time_since_epoch()).count()},
      {"outbounds", std::move(outbounds)},
      {"inbound", inbound_ ? api::toJson(*inbound_) : json::Json(nullptr)},
  };
  return json::dump(doc, indent);
}

}  // namespace weft::proxy::config
