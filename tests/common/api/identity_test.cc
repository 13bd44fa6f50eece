// Tests for the identity documents' JSON.
#include <gtest/gtest.h>

#include "common/api/json.h"

namespace weft::api {
namespace {

using json::Json;

constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr const char* kCsr =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

constexpr const char* kId = "spiffe://cluster.local/ns/demo/sa/web";

// 2026-11-30T10:00:00Z
const auto kNotAfter = std::chrono::system_clock::from_time_t(1796032800);

Json response(Json chain, Json bundle, const std::string& notAfter = "2026-11-30T10:00:00Z") {
  return {{"identity", kId},
          {"certificateChain", std::move(chain)},
          {"trustBundle", std::move(bundle)},
          {"notAfter", notAfter}};
}

TEST(IdentityJsonTest, RoundTrips) {
  CertifyRequest req{kCsr};
  EXPECT_EQ(toJson(req), (Json{{"csr", kCsr}}));
  auto req2 = certifyRequestFromJson(toJson(req));
  ASSERT_TRUE(req2) << req2.error().message;
  EXPECT_EQ(*req2, req);
  CertifyResponse resp{kId, {kCert, kCert}, {kCert}, kNotAfter};
  EXPECT_EQ(toJson(resp), response({kCert, kCert}, {kCert}));
  auto resp2 = certifyResponseFromJson(toJson(resp));
  ASSERT_TRUE(resp2) << resp2.error().message;
  EXPECT_EQ(*resp2, resp);
}

TEST(IdentityJsonTest, RefusesIncompleteDocuments) {
  EXPECT_EQ(certifyRequestFromJson(Json::object()).error().message,
            "CertifyRequest: /csr: required");
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", "x"}}).error().message,
            "CertifyRequest: /csr: expected a PEM certificate request");
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", 1}}).error().message,
            "CertifyRequest: /csr: expected a string, got 1");
  Json noId = response({kCert}, {kCert});
  noId.erase("identity");
  EXPECT_EQ(certifyResponseFromJson(noId).error().message, "CertifyResponse: /identity: required");
  Json badId = response({kCert}, {kCert});
  badId["identity"] = "web";
  EXPECT_EQ(certifyResponseFromJson(badId).error().message,
            "CertifyResponse: /identity: expected a SPIFFE ID (spiffe://trust-domain/...), got "
            "\"web\"");
  Json noExpiry = response({kCert}, {kCert});
  noExpiry.erase("notAfter");
  EXPECT_EQ(certifyResponseFromJson(noExpiry).error().message,
            "CertifyResponse: /notAfter: required");
  EXPECT_EQ(
      certifyResponseFromJson(response({kCert}, {kCert}, "2026-11-30 10:00:00")).error().message,
      "CertifyResponse: /notAfter: expected a UTC time like 2026-11-30T10:00:00Z, got "
      "\"2026-11-30 10:00:00\"");
  EXPECT_FALSE(certifyResponseFromJson(response({kCert}, {kCert}, "2026-13-30T10:00:00Z")));
  EXPECT_EQ(certifyResponseFromJson(response(Json::array(), {kCert})).error().message,
            "CertifyResponse: /certificateChain: must hold at least the leaf certificate");
  EXPECT_EQ(certifyResponseFromJson(response({kCert}, {"x"})).error().message,
            "CertifyResponse: /trustBundle/0: expected a PEM certificate");
  EXPECT_FALSE(certifyResponseFromJson(Json::array()));
}

}  // namespace
}  // namespace weft::api
