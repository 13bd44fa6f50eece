// The two proxy documents of docs/api.md (Outbound per destination, Inbound per pod) as plain
// structs with the documented defaults. JSON conversion lives in common/api/json.h so that
// this header stays light; it is included across the proxy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/api/duration.h"

namespace weft::api {

// A timeout of zero means "none" (written as "" in documents).
inline constexpr Duration kNoTimeout = Duration::zero();

enum class Protocol { kHttp, kTcp };
enum class LoadBalancerKind { kP2cEwma, kRoundRobin, kLeastRequest };
enum class PathMatchType { kExact, kPathPrefix, kRegularExpression };
enum class ValueMatchType { kExact, kRegularExpression, kPresent };
enum class MtlsMode { kPermissive, kStrict };
enum class AuthzAction { kAllow, kDeny };

struct Timeouts {
  Duration connect = std::chrono::seconds(1);
  Duration request = std::chrono::seconds(15);
  Duration perTry = kNoTimeout;
  Duration idle = std::chrono::seconds(60);
  friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

// One entry of `retries.on`: a named class of failure or one status code.
struct RetryOn {
  enum class Kind { kConnectFailure, kReset, kServerError /* 5xx */, kGatewayError, kStatus };
  Kind kind = Kind::kConnectFailure;
  int status = 0;  // 100..599 when kind == kStatus, else 0
  friend bool operator==(const RetryOn&, const RetryOn&) = default;
};

struct Backoff {
  Duration base = std::chrono::milliseconds(25);
  Duration max = std::chrono::milliseconds(250);
  friend bool operator==(const Backoff&, const Backoff&) = default;
};

struct RetryBudget {
  double ratio = 0.2;  // extra load allowed, as a fraction of requests
  double minPerSecond = 10;
  friend bool operator==(const RetryBudget&, const RetryBudget&) = default;
};

struct Retries {
  int attempts = 3;  // total tries, including the first; >= 1
  std::vector<RetryOn> on = {{RetryOn::Kind::kConnectFailure, 0}, {RetryOn::Kind::kStatus, 503}};
  bool nonIdempotent = false;
  Backoff backoff;
  RetryBudget budget;
  friend bool operator==(const Retries&, const Retries&) = default;
};

// A route's `retries`: only the fields given override the policy's.
struct RetryOverride {
  std::optional<int> attempts;
  std::optional<std::vector<RetryOn>> on;
  std::optional<bool> nonIdempotent;
  std::optional<Backoff> backoff;
  friend bool operator==(const RetryOverride&, const RetryOverride&) = default;
};

// The policy's retries with a route's overrides applied.
Retries applyOverride(const Retries& base, const RetryOverride& override);

struct CircuitBreaker {
  std::int64_t maxConnections = 100000;
  std::int64_t maxPendingRequests = 100000;
  std::int64_t maxRequests = 100000;
  friend bool operator==(const CircuitBreaker&, const CircuitBreaker&) = default;
};

struct OutlierDetection {
  int consecutiveFailures = 5;
  Duration baseEjection = std::chrono::seconds(30);
  int maxEjectionPercent = 50;  // 0..100
  friend bool operator==(const OutlierDetection&, const OutlierDetection&) = default;
};

struct Policy {
  LoadBalancerKind loadBalancer = LoadBalancerKind::kP2cEwma;
  Timeouts timeouts;
  Retries retries;
  CircuitBreaker circuitBreaker;
  OutlierDetection outlierDetection;
  friend bool operator==(const Policy&, const Policy&) = default;
};

struct Endpoint {
  std::string address;      // "192.0.2.11:8080" or "[2001:db8::1]:8080", validated
  std::int64_t weight = 1;  // >= 0; 0 = no new requests
  std::string zone;
  bool ready = true;
  bool terminating = false;
  // Has a proxy (dial its inbound port with mTLS). Defaults to false so that a hand-written
  // file naming plain backends works; the operator always sets it.
  bool meshed = false;
  std::string identity;  // expected peer SPIFFE ID; empty when not meshed
  std::map<std::string, std::string> labels;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct Backend {
  std::vector<Endpoint> endpoints;
  friend bool operator==(const Backend&, const Backend&) = default;
};

struct PathMatch {
  PathMatchType type = PathMatchType::kPathPrefix;
  std::string value = "/";  // starts with "/" unless a regular expression
  friend bool operator==(const PathMatch&, const PathMatch&) = default;
};

// A header or query-parameter match. Regular expressions are ECMAScript (std::regex) and
// known to compile once parsed.
struct ValueMatch {
  std::string name;
  ValueMatchType type = ValueMatchType::kExact;
  std::string value;  // empty for kPresent
  friend bool operator==(const ValueMatch&, const ValueMatch&) = default;
};

// All given conditions must hold.
struct RouteMatch {
  std::optional<PathMatch> path;
  std::string method;  // empty = any
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> queryParams;
  friend bool operator==(const RouteMatch&, const RouteMatch&) = default;
};

struct WeightedBackend {
  std::string name;         // a key of Outbound::backends (checked)
  std::int64_t weight = 1;  // >= 0
  friend bool operator==(const WeightedBackend&, const WeightedBackend&) = default;
};

struct HeaderModifier {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
  friend bool operator==(const HeaderModifier&, const HeaderModifier&) = default;
};

struct FaultDelay {
  Duration duration{};
  double percent = 100;  // 0..100
  friend bool operator==(const FaultDelay&, const FaultDelay&) = default;
};

struct FaultAbort {
  int status = 503;  // 200..599
  double percent = 100;
  friend bool operator==(const FaultAbort&, const FaultAbort&) = default;
};

struct Fault {
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;
  friend bool operator==(const Fault&, const Fault&) = default;
};

struct Mirror {
  std::string backend;  // a key of Outbound::backends (checked)
  double percent = 100;
  friend bool operator==(const Mirror&, const Mirror&) = default;
};

struct Route {
  std::string name;
  std::vector<RouteMatch> matches;        // any selects the route; none = every request
  std::vector<WeightedBackend> backends;  // none = the backend named like the authority
  std::optional<Duration> timeout;        // overrides policy.timeouts.request; kNoTimeout = none
  std::optional<RetryOverride> retries;
  HeaderModifier requestHeaders;
  HeaderModifier responseHeaders;
  std::optional<Fault> fault;
  std::optional<Mirror> mirror;
  friend bool operator==(const Route&, const Route&) = default;
};

struct Outbound {
  std::string version;               // opaque; changes whenever the content changes
  std::string authority;             // "host:port", what clients dial
  std::vector<std::string> aliases;  // other "host:port" names of the same service
  Protocol protocol = Protocol::kHttp;
  Policy policy;
  std::map<std::string, Backend> backends;
  std::vector<Route> routes;  // first match wins
  friend bool operator==(const Outbound&, const Outbound&) = default;
};

struct InboundPort {
  int port = 0;  // 1..65535
  Protocol protocol = Protocol::kHttp;
  friend bool operator==(const InboundPort&, const InboundPort&) = default;
};

struct Probe {
  int port = 0;
  std::string path;
  friend bool operator==(const Probe&, const Probe&) = default;
};

struct AuthzSource {
  std::vector<std::string> identities;  // SPIFFE IDs
  std::vector<std::string> namespaces;
  friend bool operator==(const AuthzSource&, const AuthzSource&) = default;
};

// Empty lists match anything.
struct AuthzRule {
  AuthzAction action = AuthzAction::kAllow;
  AuthzSource from;
  std::vector<int> ports;
  std::vector<std::string> methods;
  std::vector<PathMatch> paths;
  friend bool operator==(const AuthzRule&, const AuthzRule&) = default;
};

struct Authorization {
  std::vector<AuthzRule> rules;  // none = allow everyone
  friend bool operator==(const Authorization&, const Authorization&) = default;
};

struct Inbound {
  std::string version;
  std::string pod;  // "namespace/name"
  std::string identity;
  MtlsMode mtls = MtlsMode::kPermissive;
  std::vector<InboundPort> ports;
  std::vector<Probe> probes;
  Authorization authorization;
  std::vector<std::string> trustBundle;  // PEM certificates
  // Run-to-completion pod with the proxy as a plain container: every other
  // container has terminated, so the proxy drains and exits 0.
  bool appContainersTerminated = false;
  friend bool operator==(const Inbound&, const Inbound&) = default;
};

using Document = std::variant<Outbound, Inbound>;

// Names as written in documents ("p2c-ewma", "PathPrefix", "STRICT", ...).
const char* toString(Protocol value);
const char* toString(LoadBalancerKind value);
const char* toString(PathMatchType value);
const char* toString(ValueMatchType value);
const char* toString(MtlsMode value);
const char* toString(AuthzAction value);
std::string toString(const RetryOn& value);  // "connect-failure", "5xx", "503", ...

// A validated "host:port": host is a DNS name (lower-cased, trailing dot dropped) or an IP
// address (IPv6 without brackets, in canonical form).
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  bool isIp = false;
  bool isIpv6 = false;
  // "host:port", or "[v6]:port".
  std::string str() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses an authority "host:port" (host a DNS name or an IP address, IPv6 in brackets).
Result<HostPort> parseAuthority(std::string_view text);

// Parses an IP socket address "192.0.2.1:80" or "[2001:db8::1]:80"; names are refused.
Result<HostPort> parseIpPort(std::string_view text);

}  // namespace weft::api
