// Property test: any single-field corruption of a valid document is either refused with an
// error or accepted as a document that round-trips; never a crash or an exception.
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "common/api/json.h"
#include "common/yaml/yaml.h"

namespace weft::api {
namespace {

using json::Json;

const char* kOutbound = R"({
  "kind": "Outbound", "version": "1", "authority": "backend.demo:8080",
  "aliases": ["backend:8080", "198.51.100.10:8080"],
  "policy": {"loadBalancer": "round-robin", "timeouts": {"connect": "1s", "perTry": "200ms"},
             "retries": {"attempts": 2, "on": ["5xx", "429"], "backoff": {"base": "10ms", "max": "1s"},
                         "budget": {"ratio": 0.5, "minPerSecond": 3}},
             "circuitBreaker": {"maxConnections": 10, "maxPendingRequests": 0, "maxRequests": 5},
             "outlierDetection": {"consecutiveFailures": 2, "baseEjection": "5s", "maxEjectionPercent": 30}},
  "backends": {"backend.demo:8080": {"endpoints": [
      {"address": "192.0.2.1:80", "weight": 3, "zone": "a", "meshed": true,
       "identity": "spiffe://cluster.local/ns/demo/sa/backend", "labels": {"v": "1"}}]},
               "v2": {"endpoints": [{"address": "[2001:db8::2]:80"}]}},
  "routes": [{"name": "r", "matches": [{"path": {"type": "Exact", "value": "/x"}, "method": "GET",
                                        "headers": [{"name": "h", "type": "RegularExpression", "value": "a+"}],
                                        "queryParams": [{"name": "q", "type": "Present"}]}],
              "backends": [{"name": "v2", "weight": 1}], "timeout": "2s",
              "retries": {"attempts": 1, "on": ["reset"], "nonIdempotent": true},
              "requestHeaders": {"set": {"a": "b"}, "add": {"c": "d"}, "remove": ["e"]},
              "fault": {"delay": {"duration": "1ms", "percent": 1}, "abort": {"status": 500, "percent": 2}},
              "mirror": {"backend": "v2", "percent": 50}}]
})";

const char* kInbound = R"({
  "kind": "Inbound", "version": "1", "pod": "demo/p", "identity": "spiffe://cluster.local/ns/demo/sa/p",
  "mtls": "STRICT", "ports": [{"port": 80, "protocol": "http"}, {"port": 81, "protocol": "tcp"}],
  "probes": [{"port": 80, "path": "/healthz"}],
  "authorization": {"rules": [{"action": "DENY", "from": {"identities": ["spiffe://x/y"], "namespaces": ["n"]},
                               "ports": [80], "methods": ["POST"], "paths": [{"type": "PathPrefix", "value": "/a"}]}]},
  "trustBundle": ["-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n"]
})";

void collectPointers(const Json& node, const std::string& path, std::vector<std::string>& out) {
  out.push_back(path);
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) {
      std::string key;
      for (char c : k) {
        key += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
      }
      collectPointers(v, path + "/" + key, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      collectPointers(node[i], path + "/" + std::to_string(i), out);
    }
  }
}

Json randomValue(std::mt19937_64& rng) {
  const std::vector<Json> values = {nullptr,
                                    true,
                                    false,
                                    0,
                                    -1,
                                    1,
                                    65536,
                                    1000001,
                                    INT64_MAX,
                                    UINT64_MAX,
                                    -1e308,
                                    0.5,
                                    1e308,
                                    "",
                                    "x",
                                    "((",
                                    "[",
                                    "1h",
                                    "0",
                                    "10001h",
                                    "-1s",
                                    "a:1",
                                    "[::1]:1",
                                    "192.0.2.1:0",
                                    "spiffe://td/x",
                                    "/p",
                                    "GET",
                                    "Exact",
                                    "ALLOW",
                                    "STRICT",
                                    "tcp",
                                    "503",
                                    std::string(5000, 'a'),
                                    Json::array(),
                                    Json::object(),
                                    Json::array({1, "a", nullptr}),
                                    Json{{"k", "v"}},
                                    Json{{"type", "RegularExpression"}, {"value", "(a"}}};
  return values[rng() % values.size()];
}

void mutateAndCheck(const char* text, const std::function<bool(const Json&)>& roundTrips) {
  const Json base = Json::parse(text);
  std::vector<std::string> pointers;
  collectPointers(base, "", pointers);
  std::mt19937_64 rng(42);  // fixed: the test is deterministic
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    Json doc = base;
    const std::string& p = pointers[rng() % pointers.size()];
    if (p.empty()) {
      doc = randomValue(rng);
    } else if (rng() % 5 == 0) {
      // Remove the member or element instead of replacing it.
      Json::json_pointer ptr(p);
      doc[ptr.parent_pointer()].is_object() ? (void)doc[ptr.parent_pointer()].erase(ptr.back())
                                            : (void)(doc[ptr] = nullptr);
    } else {
      doc[Json::json_pointer(p)] = randomValue(rng);
    }
    ASSERT_NO_THROW(accepted += roundTrips(doc) ? 1 : 0) << p;
  }
  // Many corruptions land on values that are still valid; both outcomes must be exercised.
  EXPECT_GT(accepted, 100);
  EXPECT_LT(accepted, 3900);
}

TEST(JsonMutationTest, OutboundNeverCrashesAndWhatParsesRoundTrips) {
  ASSERT_TRUE(outboundFromJson(Json::parse(kOutbound)));
  mutateAndCheck(kOutbound, [](const Json& doc) {
    auto first = outboundFromJson(doc);
    if (!first) {
      EXPECT_FALSE(first.error().message.empty());
      return false;
    }
    auto second = outboundFromJson(toJson(*first));
    EXPECT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second && *second == *first) << json::dump(doc);
    return true;
  });
}

TEST(JsonMutationTest, InboundNeverCrashesAndWhatParsesRoundTrips) {
  ASSERT_TRUE(inboundFromJson(Json::parse(kInbound)));
  mutateAndCheck(kInbound, [](const Json& doc) {
    auto first = inboundFromJson(doc);
    if (!first) {
      EXPECT_FALSE(first.error().message.empty());
      return false;
    }
    auto second = inboundFromJson(toJson(*first));
    EXPECT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second && *second == *first) << json::dump(doc);
    return true;
  });
}

}  // namespace
}  // namespace weft::api
