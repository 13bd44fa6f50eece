// Tests for the identity documents' JSON.
#include <gtest/gtest.h>

#include "common/api/json.h"

namespace weft::api {
namespace {

using json::Json;

constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr const char* kCsr =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

TEST(IdentityJsonTest, RoundTrips) {
  CertifyRequest req{kCsr, "eyJhbGciOi.token"};
  auto req2 = certifyRequestFromJson(toJson(req));
  ASSERT_TRUE(req2) << req2.error().message;
  EXPECT_EQ(*req2, req);
  CertifyResponse resp{{kCert, kCert}, {kCert}};
  auto resp2 = certifyResponseFromJson(toJson(resp));
  ASSERT_TRUE(resp2) << resp2.error().message;
  EXPECT_EQ(*resp2, resp);
}

TEST(IdentityJsonTest, RefusesIncompleteDocuments) {
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", kCsr}}).error().message,
            "CertifyRequest: /token: required");
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", "x"}, {"token", "t"}}).error().message,
            "CertifyRequest: /csr: expected a PEM certificate request");
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", kCsr}, {"token", ""}}).error().message,
            "CertifyRequest: /token: must not be empty");
  EXPECT_EQ(certifyRequestFromJson(Json{{"csr", 1}, {"token", "t"}}).error().message,
            "CertifyRequest: /csr: expected a string, got 1");
  EXPECT_EQ(
      certifyResponseFromJson(Json{{"certificateChain", Json::array()}, {"trustBundle", {kCert}}})
          .error()
          .message,
      "CertifyResponse: /certificateChain: must hold at least the leaf certificate");
  EXPECT_EQ(certifyResponseFromJson(Json{{"certificateChain", {kCert}}, {"trustBundle", {"x"}}})
                .error()
                .message,
            "CertifyResponse: /trustBundle/0: expected a PEM certificate");
  EXPECT_FALSE(certifyResponseFromJson(Json::array()));
}

}  // namespace
}  // namespace weft::api
