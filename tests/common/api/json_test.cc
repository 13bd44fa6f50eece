// Tests for the documents' JSON: the docs/api.md examples, defaults, round trips, and one
// precise error per validation rule.
#include "common/api/json.h"

#include <gtest/gtest.h>

#include "common/yaml/yaml.h"

namespace weft::api {
namespace {

using json::Json;

// The examples of docs/api.md (the trust bundle shortened to a PEM header).
constexpr const char* kOutboundYaml = R"(
kind: Outbound
version: "42"
authority: backend.demo.svc.cluster.local:8080
aliases: [backend:8080, backend.demo:8080, 198.51.100.10:8080]
protocol: http
policy:
  loadBalancer: p2c-ewma
  timeouts: {connect: 1s, request: 15s, perTry: "", idle: 60s}
  retries:
    attempts: 3
    on: [connect-failure, "503"]
    nonIdempotent: false
    backoff: {base: 25ms, max: 250ms}
    budget: {ratio: 0.2, minPerSecond: 10}
  circuitBreaker: {maxConnections: 100000, maxPendingRequests: 100000, maxRequests: 100000}
  outlierDetection: {consecutiveFailures: 5, baseEjection: 30s, maxEjectionPercent: 50}
backends:
  backend.demo.svc.cluster.local:8080:
    endpoints:
      - address: 192.0.2.11:8080
        weight: 1
        zone: ""
        ready: true
        terminating: false
        meshed: true
        identity: spiffe://cluster.local/ns/demo/sa/backend
        labels: {version: v1}
  backend-v1.demo.svc.cluster.local:8080:
    endpoints: [{address: "[2001:db8::11]:8080"}]
  backend-v2.demo.svc.cluster.local:8080: {endpoints: []}
  backend-shadow.demo.svc.cluster.local:8080: {}
routes:
  - name: canary
    matches:
      - path: {type: PathPrefix, value: /api}
        method: GET
        headers: [{name: x-canary, type: Exact, value: "1"}]
        queryParams: [{name: debug, type: Exact, value: "1"}]
    backends: [{name: backend-v1.demo.svc.cluster.local:8080, weight: 90},
               {name: backend-v2.demo.svc.cluster.local:8080, weight: 10}]
    timeout: 2s
    retries: {attempts: 2, on: ["503"]}
    requestHeaders: {set: {x-a: b}, add: {x-c: d}, remove: [x-e]}
    responseHeaders: {set: {}, add: {}, remove: []}
    fault: {delay: {duration: 100ms, percent: 10}, abort: {status: 503, percent: 5}}
    mirror: {backend: backend-shadow.demo.svc.cluster.local:8080, percent: 100}
)";

constexpr const char* kInboundYaml = R"(
kind: Inbound
version: "7"
pod: demo/backend-v1-7d9f
identity: spiffe://cluster.local/ns/demo/sa/backend
mtls: PERMISSIVE
ports:
  - {port: 8080, protocol: http}
  - {port: 5432, protocol: tcp}
probes:
  - {port: 8080, path: /healthz}
authorization:
  rules:
    - action: ALLOW
      from: {identities: [spiffe://cluster.local/ns/demo/sa/frontend], namespaces: [demo]}
      ports: [8080]
      methods: [GET]
      paths: [{type: PathPrefix, value: /api}]
    - action: DENY
      paths: [{type: RegularExpression, value: "^/admin(/.*)?$"}]
trustBundle: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]
)";

Json yamlDoc(const char* text) {
  auto doc = yaml::parseOne(text);
  EXPECT_TRUE(doc) << doc.error().message;
  return doc ? *doc : Json();
}

TEST(OutboundJsonTest, ParsesTheDocumentedExample) {
  auto out = outboundFromJson(yamlDoc(kOutboundYaml));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->version, "42");
  EXPECT_EQ(out->authority, "backend.demo.svc.cluster.local:8080");
  EXPECT_EQ(out->aliases.size(), 3u);
  EXPECT_EQ(out->policy, Policy{});  // the example spells out the defaults
  ASSERT_EQ(out->backends.size(), 4u);
  const Endpoint& e = out->backends.at("backend.demo.svc.cluster.local:8080").endpoints.at(0);
  EXPECT_EQ(e.address, "192.0.2.11:8080");
  EXPECT_TRUE(e.meshed);
  EXPECT_EQ(e.labels.at("version"), "v1");
  EXPECT_EQ(out->backends.at("backend-v1.demo.svc.cluster.local:8080").endpoints.at(0).address,
            "[2001:db8::11]:8080");
  ASSERT_EQ(out->routes.size(), 1u);
  const Route& r = out->routes[0];
  EXPECT_EQ(r.name, "canary");
  ASSERT_EQ(r.matches.size(), 1u);
  EXPECT_EQ(r.matches[0].path->type, PathMatchType::kPathPrefix);
  EXPECT_EQ(r.matches[0].method, "GET");
  EXPECT_EQ(r.matches[0].headers.at(0).value, "1");
  EXPECT_EQ(r.backends.at(1).weight, 10);
  EXPECT_EQ(r.timeout, std::chrono::seconds(2));
  ASSERT_TRUE(r.retries);
  EXPECT_EQ(r.retries->attempts, 2);
  EXPECT_FALSE(r.retries->backoff);
  EXPECT_EQ(r.requestHeaders.set.at("x-a"), "b");
  EXPECT_EQ(r.fault->delay->duration, std::chrono::milliseconds(100));
  EXPECT_EQ(r.fault->abort->status, 503);
  EXPECT_EQ(r.mirror->percent, 100);
}

TEST(OutboundJsonTest, MissingFieldsTakeTheDocumentedDefaults) {
  auto out = outboundFromJson(Json{{"authority", "web:80"}});
  ASSERT_TRUE(out) << out.error().message;
  const Policy& p = out->policy;
  EXPECT_EQ(out->protocol, Protocol::kHttp);
  EXPECT_EQ(p.loadBalancer, LoadBalancerKind::kP2cEwma);
  EXPECT_EQ(p.timeouts.connect, std::chrono::seconds(1));
  EXPECT_EQ(p.timeouts.request, std::chrono::seconds(15));
  EXPECT_EQ(p.timeouts.perTry, kNoTimeout);
  EXPECT_EQ(p.timeouts.idle, std::chrono::seconds(60));
  EXPECT_EQ(p.retries.attempts, 3);
  ASSERT_EQ(p.retries.on.size(), 2u);
  EXPECT_EQ(toString(p.retries.on[0]), "connect-failure");
  EXPECT_EQ(toString(p.retries.on[1]), "503");
  EXPECT_FALSE(p.retries.nonIdempotent);
  EXPECT_EQ(p.retries.backoff.base, std::chrono::milliseconds(25));
  EXPECT_EQ(p.retries.backoff.max, std::chrono::milliseconds(250));
  EXPECT_DOUBLE_EQ(p.retries.budget.ratio, 0.2);
  EXPECT_DOUBLE_EQ(p.retries.budget.minPerSecond, 10);
  EXPECT_EQ(p.circuitBreaker.maxConnections, 100000);
  EXPECT_EQ(p.outlierDetection.consecutiveFailures, 5);
  EXPECT_EQ(p.outlierDetection.baseEjection, std::chrono::seconds(30));
  EXPECT_EQ(p.outlierDetection.maxEjectionPercent, 50);

  auto ep = outboundFromJson(
      Json{{"authority", "web:80"},
           {"backends", {{"web:80", {{"endpoints", {{{"address", "192.0.2.1:80"}}}}}}}}});
  ASSERT_TRUE(ep) << ep.error().message;
  const Endpoint& e = ep->backends.at("web:80").endpoints.at(0);
  EXPECT_EQ(e.weight, 1);
  EXPECT_TRUE(e.ready);
  EXPECT_FALSE(e.terminating);
  EXPECT_FALSE(e.meshed);
}

TEST(OutboundJsonTest, RoundTripsThroughJsonAndYaml) {
  auto first = outboundFromJson(yamlDoc(kOutboundYaml));
  ASSERT_TRUE(first) << first.error().message;
  Json written = toJson(*first);
  auto second = outboundFromJson(written);
  ASSERT_TRUE(second) << second.error().message << "\n" << json::dump(written, 2);
  EXPECT_EQ(*first, *second);
  // Through text too, as the discovery stream and files carry it.
  auto reparsed = json::parse(json::dump(written));
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(*outboundFromJson(*reparsed), *first);
  auto viaYaml = yaml::parseOne(yaml::dump(written));
  ASSERT_TRUE(viaYaml) << viaYaml.error().message;
  auto third = outboundFromJson(*viaYaml);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(*third, *first);
}

TEST(OutboundJsonTest, RoundTripsNonDefaultValues) {
  Outbound o;
  o.version = "9";
  o.authority = "db.data.svc.cluster.local:5432";
  o.protocol = Protocol::kTcp;
  o.policy.loadBalancer = LoadBalancerKind::kLeastRequest;
  o.policy.timeouts = {std::chrono::milliseconds(1500), kNoTimeout, std::chrono::seconds(3),
                       std::chrono::hours(1)};
  o.policy.retries.on = {{RetryOn::Kind::kReset, 0},
                         {RetryOn::Kind::kServerError, 0},
                         {RetryOn::Kind::kGatewayError, 0},
                         {RetryOn::Kind::kStatus, 429}};
  o.policy.retries.nonIdempotent = true;
  o.policy.retries.budget = {0.5, 0};
  o.policy.outlierDetection.maxEjectionPercent = 0;
  o.backends["db.data.svc.cluster.local:5432"].endpoints.push_back(
      Endpoint{"[2001:db8::5]:5432",
               0,
               "zone-a",
               false,
               true,
               true,
               "spiffe://cluster.local/ns/data/sa/db",
               {{"a", "b"}}});
  auto back = outboundFromJson(toJson(o));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, o);

  Route r;
  r.name = "slow";
  r.timeout = kNoTimeout;  // explicitly none, distinct from inheriting
  r.retries = RetryOverride{std::nullopt, std::vector<RetryOn>{}, false, Backoff{}};
  r.matches.push_back(RouteMatch{PathMatch{PathMatchType::kRegularExpression, "^/x/[0-9]+$"},
                                 "",
                                 {{"x-present", ValueMatchType::kPresent, ""}},
                                 {{"q", ValueMatchType::kRegularExpression, "a|b"}}});
  r.fault = Fault{FaultDelay{std::chrono::milliseconds(5), 0.5}, std::nullopt};
  o.protocol = Protocol::kHttp;
  o.routes.push_back(r);
  auto withRoute = outboundFromJson(toJson(o));
  ASSERT_TRUE(withRoute) << withRoute.error().message;
  EXPECT_EQ(*withRoute, o);
  EXPECT_EQ(toJson(o)["routes"][0]["timeout"], "");
}

// A small valid Outbound that each case below breaks in one place.
Json baseOutbound() {
  return Json::parse(R"({
    "kind": "Outbound", "authority": "backend.demo:8080",
    "backends": {"backend.demo:8080": {"endpoints": [{"address": "192.0.2.11:8080"}]}},
    "routes": [{"name": "r", "backends": [{"name": "backend.demo:8080"}],
                "matches": [{"headers": [{"name": "x-a", "value": "1"}]}]}]
  })");
}

struct ErrorCase {
  std::string pointer;
  Json value;
  // The error message after "Outbound backend.demo:8080: ", or all of it when it names the
  // document itself.
  const char* message;
};

TEST(OutboundJsonTest, EachValidationErrorNamesTheField) {
  const std::string ep = "/backends/backend.demo:8080/endpoints/0";
  const std::vector<ErrorCase> cases = {
      {"/policy/retries/attempts", 0,
       "/policy/retries/attempts: expected an integer in 1..100, got 0"},
      {"/policy/retries/attempts", "3",
       "/policy/retries/attempts: expected an integer in 1..100, got \"3\""},
      {"/policy/timeouts/connect", "1d",
       "/policy/timeouts/connect: invalid duration \"1d\": unknown unit \"d\" (h, m, s or ms)"},
      {"/policy/timeouts/request", 5,
       "/policy/timeouts/request: expected a duration (\"1s\", \"250ms\") or \"\" for none, got "
       "5"},
      {"/policy/outlierDetection/baseEjection", "",
       "/policy/outlierDetection/baseEjection: invalid duration \"\": empty"},
      {"/policy/outlierDetection/maxEjectionPercent", 101,
       "/policy/outlierDetection/maxEjectionPercent: expected an integer in 0..100, got 101"},
      {"/policy/loadBalancer", "random",
       "/policy/loadBalancer: expected one of p2c-ewma, round-robin, least-request, got "
       "\"random\""},
      {"/policy/retries/on", Json::array({"connect-failure", "600"}),
       "/policy/retries/on/1: expected connect-failure, reset, 5xx, gateway-error or a status "
       "code 100..599"},
      {"/policy/retries/backoff", Json{{"base", "100ms"}, {"max", "10ms"}},
       "/policy/retries/backoff/max: must be >= base (100ms)"},
      {"/policy/retries/budget/ratio", -0.1,
       "/policy/retries/budget/ratio: expected a number in 0.0..1000.0, got -0.1"},
      {"/policy/circuitBreaker/maxConnections", 0,
       "/policy/circuitBreaker/maxConnections: expected an integer in 1..1000000000, got 0"},
      {"/policy", Json::array(), "/policy: expected an object, got array"},
      {"/policy/retries/tries", 3, "/policy/retries/tries: unknown field"},
      {"/authority", "backend",
       "Outbound backend: /authority: invalid address \"backend\": expected host:port"},
      {"/aliases", Json::array({"backend:8080", "bad host:80"}),
       "/aliases/1: invalid address \"bad host:80\": host is neither an IP address nor a DNS "
       "name"},
      {"/protocol", "udp", "/protocol: expected one of http, tcp, got \"udp\""},
      {"/protocol", "tcp", "/routes: routes need protocol http"},
      {"/kind", "Inbound", "/kind: expected \"Outbound\""},
      {ep + "/address", "backend:8080",
       "/backends/backend.demo:8080/endpoints/0/address: invalid address \"backend:8080\": "
       "expected an IPv4 or [IPv6] address with a port"},
      {ep + "/address", "192.0.2.11:0",
       "/backends/backend.demo:8080/endpoints/0/address: invalid address \"192.0.2.11:0\": port "
       "must be 1..65535"},
      {ep + "/weight", -1,
       "/backends/backend.demo:8080/endpoints/0/weight: expected an integer in 0..1000000, got -1"},
      {ep + "/meshed", true,
       "/backends/backend.demo:8080/endpoints/0/identity: required when meshed is true"},
      {ep + "/identity", "backend",
       "/backends/backend.demo:8080/endpoints/0/identity: expected a SPIFFE ID "
       "(spiffe://trust-domain/...), got \"backend\""},
      {ep + "/ready", "yes",
       "/backends/backend.demo:8080/endpoints/0/ready: expected true or false, got \"yes\""},
      {"/routes/0/backends/0/name", "nope", "/routes/0/backends/0/name: unknown backend \"nope\""},
      {"/routes/0/backends/0/weight", 1000001,
       "/routes/0/backends/0/weight: expected an integer in 0..1000000, got 1000001"},
      {"/routes/0/matches/0/path", Json{{"type", "RegularExpression"}, {"value", "(a"}},
       nullptr},  // the regex engine words the reason; checked by prefix below
      {"/routes/0/matches/0/path", Json{{"type", "PathPrefix"}, {"value", "api"}},
       "/routes/0/matches/0/path/value: expected a path starting with \"/\""},
      {"/routes/0/matches/0/path", Json{{"type", "Prefix"}, {"value", "/api"}},
       "/routes/0/matches/0/path/type: expected one of Exact, PathPrefix, RegularExpression, got "
       "\"Prefix\""},
      {"/routes/0/matches/0/headers/0/name", "bad header",
       "/routes/0/matches/0/headers/0/name: expected a name (an HTTP token), got \"bad header\""},
      {"/routes/0/matches/0/headers/0/type", "Present",
       "/routes/0/matches/0/headers/0/value: must be empty for type Present"},
      {"/routes/0/matches/0/method", "GE T",
       "/routes/0/matches/0/method: expected a method (an HTTP token), got \"GE T\""},
      {"/routes/0/fault", Json{{"abort", {{"status", 700}}}},
       "/routes/0/fault/abort/status: expected an integer in 200..599, got 700"},
      {"/routes/0/fault", Json{{"delay", {{"duration", "1s"}, {"percent", 150}}}},
       "/routes/0/fault/delay/percent: expected a number in 0.0..100.0, got 150"},
      {"/routes/0/fault", Json{{"delay", {{"percent", 10}}}},
       "/routes/0/fault/delay/duration: required"},
      {"/routes/0/mirror", Json{{"backend", "nope"}},
       "/routes/0/mirror/backend: unknown backend \"nope\""},
      {"/routes/0/timeout", "1x",
       "/routes/0/timeout: invalid duration \"1x\": unknown unit \"x\" (h, m, s or ms)"},
      {"/routes/0/retries", Json{{"attempts", 0}},
       "/routes/0/retries/attempts: expected an integer in 1..100, got 0"},
      {"/routes/0/requestHeaders", Json{{"set", {{"x-a", "a\r\nb"}}}},
       "/routes/0/requestHeaders/set/x-a: header value contains CR, LF or NUL"},
      {"/routes/0/responseHeaders", Json{{"remove", {"ok", "not ok"}}},
       "/routes/0/responseHeaders/remove/1: expected a header name (an HTTP token), got \"not "
       "ok\""},
  };
  for (const auto& c : cases) {
    Json doc = baseOutbound();
    doc[Json::json_pointer(c.pointer)] = c.value;
    auto out = outboundFromJson(doc);
    ASSERT_FALSE(out) << c.pointer << " = " << c.value.dump();
    EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
    if (c.message == nullptr) {
      EXPECT_EQ(out.error().message.rfind("Outbound backend.demo:8080: " + std::string(c.pointer) +
                                              "/value: invalid regular expression: ",
                                          0),
                0u)
          << out.error().message;
      continue;
    }
    const std::string expected = std::string(c.message).rfind("Outbound ", 0) == 0
                                     ? c.message
                                     : "Outbound backend.demo:8080: " + std::string(c.message);
    EXPECT_EQ(out.error().message, expected) << c.pointer << " = " << c.value.dump();
  }
}

TEST(OutboundJsonTest, RequiresAnAuthority) {
  auto out = outboundFromJson(Json{{"kind", "Outbound"}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "Outbound: /authority: required");
  EXPECT_FALSE(outboundFromJson(Json::array()));
}

TEST(OutboundJsonTest, UnknownFieldsAreRefusedOnlyWhenStrict) {
  Json doc = baseOutbound();
  doc["policy"]["futureFeature"] = {{"on", true}};
  EXPECT_FALSE(outboundFromJson(doc));
  auto lenient = outboundFromJson(doc, ParseOptions{.rejectUnknownFields = false});
  ASSERT_TRUE(lenient) << lenient.error().message;
  EXPECT_EQ(lenient->authority, "backend.demo:8080");
}

TEST(OutboundJsonTest, AcceptsIntegersWhereYamlUsersWriteThem) {
  Json doc = baseOutbound();
  doc["version"] = 3;
  doc["policy"]["retries"]["on"] = {503, "5xx"};
  auto out = outboundFromJson(doc);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->version, "3");
  EXPECT_EQ(out->policy.retries.on.at(0), (RetryOn{RetryOn::Kind::kStatus, 503}));
  // Null means absent (YAML "key:" with no value).
  doc["policy"]["timeouts"] = nullptr;
  auto withNull = outboundFromJson(doc);
  ASSERT_TRUE(withNull) << withNull.error().message;
  EXPECT_EQ(withNull->policy.timeouts, Timeouts{});
}

TEST(InboundJsonTest, ParsesAndRoundTripsTheDocumentedExample) {
  auto in = inboundFromJson(yamlDoc(kInboundYaml));
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->pod, "demo/backend-v1-7d9f");
  EXPECT_EQ(in->mtls, MtlsMode::kPermissive);
  ASSERT_EQ(in->ports.size(), 2u);
  EXPECT_EQ(in->ports[1].protocol, Protocol::kTcp);
  EXPECT_EQ(in->probes.at(0).path, "/healthz");
  ASSERT_EQ(in->authorization.rules.size(), 2u);
  EXPECT_EQ(in->authorization.rules[0].from.namespaces.at(0), "demo");
  EXPECT_EQ(in->authorization.rules[1].action, AuthzAction::kDeny);
  EXPECT_EQ(in->trustBundle.size(), 1u);
  auto back = inboundFromJson(toJson(*in));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, *in);

  auto minimal = inboundFromJson(Json{{"pod", "ns/p"}});
  ASSERT_TRUE(minimal) << minimal.error().message;
  EXPECT_EQ(minimal->mtls, MtlsMode::kPermissive);
  EXPECT_TRUE(minimal->authorization.rules.empty());
}

TEST(InboundJsonTest, AppContainersTerminatedIsWrittenOnlyWhenSet) {
  Json doc = yamlDoc(kInboundYaml);
  auto running = inboundFromJson(doc);
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_FALSE(running->appContainersTerminated);
  EXPECT_FALSE(toJson(*running).contains("appContainersTerminated"));

  doc["appContainersTerminated"] = true;
  auto done = inboundFromJson(doc);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_TRUE(done->appContainersTerminated);
  EXPECT_EQ(toJson(*done)["appContainersTerminated"], true);
  auto back = inboundFromJson(toJson(*done));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, *done);

  doc["appContainersTerminated"] = "yes";
  auto bad = inboundFromJson(doc);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/appContainersTerminated"), std::string::npos)
      << bad.error().message;
}

TEST(InboundJsonTest, EachValidationErrorNamesTheField) {
  const std::vector<std::pair<std::pair<const char*, Json>, const char*>> cases = {
      {{"/pod", "nopod"}, "Inbound nopod: /pod: expected namespace/name"},
      {{"/pod", "a/b/c"}, "Inbound a/b/c: /pod: expected namespace/name"},
      {{"/mtls", "strict"},
       "Inbound demo/backend-v1-7d9f: /mtls: expected one of PERMISSIVE, STRICT, got \"strict\""},
      {{"/identity", "backend"},
       "Inbound demo/backend-v1-7d9f: /identity: expected a SPIFFE ID "
       "(spiffe://trust-domain/...), got \"backend\""},
      {{"/ports/0/port", 0},
       "Inbound demo/backend-v1-7d9f: /ports/0/port: expected an integer in 1..65535, got 0"},
      {{"/ports/1/port", 8080}, "Inbound demo/backend-v1-7d9f: /ports/1/port: duplicate port 8080"},
      {{"/ports/1/protocol", "udp"},
       "Inbound demo/backend-v1-7d9f: /ports/1/protocol: expected one of http, tcp, got \"udp\""},
      {{"/probes/0/path", "healthz"},
       "Inbound demo/backend-v1-7d9f: /probes/0/path: expected a path starting with \"/\""},
      {{"/authorization/rules/0/action", "MAYBE"},
       "Inbound demo/backend-v1-7d9f: /authorization/rules/0/action: expected one of ALLOW, "
       "DENY, got \"MAYBE\""},
      {{"/authorization/rules/0/from/identities/0", "frontend"},
       "Inbound demo/backend-v1-7d9f: /authorization/rules/0/from/identities/0: expected a "
       "SPIFFE ID (spiffe://trust-domain/...), got \"frontend\""},
      {{"/authorization/rules/0/ports/0", 70000},
       "Inbound demo/backend-v1-7d9f: /authorization/rules/0/ports/0: expected an integer in "
       "1..65535, got 70000"},
      {{"/authorization/rules/1/paths/0/value", "(("}, nullptr},
      {{"/authorization/rules/0/from/namespaces/0", "Demo"},
       "Inbound demo/backend-v1-7d9f: /authorization/rules/0/from/namespaces/0: expected a "
       "namespace name (a DNS label), got \"Demo\""},
      {{"/authorization/rules/0/ports/0", nullptr},
       "Inbound demo/backend-v1-7d9f: /authorization/rules/0/ports/0: expected an integer in "
       "1..65535, got null"},
      {{"/trustBundle/0", "not a certificate"},
       "Inbound demo/backend-v1-7d9f: /trustBundle/0: expected a PEM certificate"},
      {{"/ports", Json{{"port", 1}}},
       "Inbound demo/backend-v1-7d9f: /ports: expected an array, got object"},
  };
  for (const auto& [change, message] : cases) {
    Json doc = yamlDoc(kInboundYaml);
    doc[Json::json_pointer(change.first)] = change.second;
    auto in = inboundFromJson(doc);
    ASSERT_FALSE(in) << change.first;
    if (message == nullptr) {
      EXPECT_NE(in.error().message.find("invalid regular expression"), std::string::npos);
      continue;
    }
    EXPECT_EQ(in.error().message, message);
  }
  Json noAction = yamlDoc(kInboundYaml);
  noAction["authorization"]["rules"][0].erase("action");
  EXPECT_EQ(inboundFromJson(noAction).error().message,
            "Inbound demo/backend-v1-7d9f: /authorization/rules/0/action: required (ALLOW or "
            "DENY)");
  EXPECT_EQ(inboundFromJson(Json::object()).error().message, "Inbound: /pod: required");
}

TEST(DocumentJsonTest, DispatchesOnKind) {
  auto out = documentFromJson(yamlDoc(kOutboundYaml));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(std::holds_alternative<Outbound>(*out));
  auto in = documentFromJson(yamlDoc(kInboundYaml));
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_TRUE(std::holds_alternative<Inbound>(*in));
  EXPECT_EQ(toJson(*in)["kind"], "Inbound");
  EXPECT_EQ(documentFromJson(Json{{"authority", "a:1"}}).error().message,
            "/kind: required (Outbound or Inbound)");
  EXPECT_EQ(documentFromJson(Json{{"kind", "Mesh"}}).error().message,
            "/kind: expected Outbound or Inbound, got \"Mesh\"");
  EXPECT_FALSE(documentFromJson(Json("text")));
}

}  // namespace
}  // namespace weft::api
