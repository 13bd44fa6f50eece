// The pure parts of weftctl check: certificate judgements, addresses, and
// the CRD versions this build expects against crds/*.yaml.
#include "cli/src/check_certs.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/src/check_steps.h"
#include "cli/src/tls_probe.h"
#include "common/file.h"
#include "common/yaml/yaml.h"
#include "tests/cli/check_install.h"

namespace weft::cli {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::issueCa;
using testing::issueServing;
using testing::makeRootCa;
using testing::validFor;

constexpr std::chrono::hours kDay{24};
constexpr std::chrono::seconds kWeek = std::chrono::hours(24 * 7);

std::vector<tls::Cert> certsOf(const std::string& pem) {
  auto certs = tls::parseCerts(pem);
  EXPECT_TRUE(certs.ok());
  return certs.ok() ? std::move(*certs) : std::vector<tls::Cert>{};
}

TEST(ExpiryCheck, OkWarningFailedAndNotYetValid) {
  auto now = std::chrono::system_clock::now();
  auto far = certsOf(makeRootCa("far", validFor(kDay * 30)).certPem);
  auto soon = certsOf(makeRootCa("soon", validFor(kDay * 2)).certPem);
  auto gone = certsOf(makeRootCa("gone", validFor(-1h)).certPem);
  auto ok = expiryCheck("x", far, now, kWeek, "fix it");
  EXPECT_EQ(ok.status, CheckStatus::kOk);
  EXPECT_THAT(ok.message, HasSubstr("CN=far expires"));
  EXPECT_THAT(ok.message, HasSubstr("in 29d"));
  EXPECT_EQ(ok.fix, "");
  auto warn = expiryCheck("x", soon, now, kWeek, "fix it");
  EXPECT_EQ(warn.status, CheckStatus::kWarning);
  EXPECT_EQ(warn.fix, "fix it");
  EXPECT_EQ(expiryCheck("x", soon, now, std::chrono::seconds(0), "").status, CheckStatus::kOk)
      << "a zero window never warns";
  auto failed = expiryCheck("x", gone, now, kWeek, "fix it");
  EXPECT_EQ(failed.status, CheckStatus::kFailed);
  EXPECT_THAT(failed.message, HasSubstr("CN=gone expired on"));
  EXPECT_THAT(failed.message, HasSubstr("1h 0m ago"));
  EXPECT_EQ(expiryCheck("x", far, now - kDay * 2, kWeek, "").status, CheckStatus::kFailed)
      << "not valid yet at that time";
  EXPECT_EQ(expiryCheck("x", {}, now, kWeek, "").status, CheckStatus::kFailed);
}

TEST(ExpiryCheck, AGroupIsJudgedByItsSoonestCertificate) {
  auto now = std::chrono::system_clock::now();
  auto pems = makeRootCa("far", validFor(kDay * 300)).certPem +
              makeRootCa("soon", validFor(kDay * 3)).certPem;
  auto r = expiryCheck("roots", certsOf(pems), now, kWeek, "");
  EXPECT_EQ(r.status, CheckStatus::kWarning);
  EXPECT_THAT(r.message, HasSubstr("CN=soon (soonest of 2) expires"));
}

TEST(ParseCaBundle, RefusesWhatTheApiServerCouldNotUse) {
  auto now = std::chrono::system_clock::now();
  auto ca = makeRootCa("ca", validFor(kDay * 30));
  EXPECT_EQ(parseCaBundle("", now).error().message, "no PEM certificate in it");
  EXPECT_EQ(parseCaBundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", now)
                .error()
                .code,
            ErrorCode::kParse);
  auto leaf = issueServing(ca, {"a.b.svc"}, validFor(kDay));
  EXPECT_THAT(parseCaBundle(ca.certPem + leaf.certPem, now).error().message,
              HasSubstr("certificate 2 (CN=a.b.svc) is not a CA"));
  EXPECT_THAT(parseCaBundle(makeRootCa("old", validFor(-1h)).certPem, now).error().message,
              HasSubstr("certificate 1 (CN=old) expired on"));
  auto two = parseCaBundle(ca.certPem + makeRootCa("next", validFor(kDay)).certPem, now);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
}

TEST(VerifyServing, ChainsNamesAndAuthorities) {
  auto now = std::chrono::system_clock::now();
  auto root = makeRootCa("root", validFor(kDay * 30));
  auto mid = issueCa(root, "intermediate", validFor(kDay * 30));
  auto leaf = issueServing(mid, {"weft-injector.weft-system.svc"}, validFor(kDay));
  auto roots = certsOf(root.certPem);
  auto presented = certsOf(leaf.certPem + mid.certPem);
  EXPECT_TRUE(verifyServing(presented, roots, "weft-injector.weft-system.svc", now).ok());
  EXPECT_THAT(verifyServing(presented, roots, "weft-injector.other.svc", now).error().message,
              HasSubstr("not valid for weft-injector.other.svc (its DNS names: "
                        "weft-injector.weft-system.svc)"));
  auto leafOnly = certsOf(leaf.certPem);
  EXPECT_THAT(verifyServing(leafOnly, roots, "weft-injector.weft-system.svc", now).error().message,
              HasSubstr("unable to get local issuer certificate"));
  auto stranger = certsOf(makeRootCa("stranger", validFor(kDay)).certPem);
  EXPECT_FALSE(verifyServing(presented, stranger, "weft-injector.weft-system.svc", now).ok());
  EXPECT_FALSE(verifyServing({}, roots, "x", now).ok());
}

TEST(FormatSpan, ReadableAtEveryScale) {
  EXPECT_EQ(formatSpan(std::chrono::seconds(42)), "42s");
  EXPECT_EQ(formatSpan(std::chrono::minutes(5)), "5m");
  EXPECT_EQ(formatSpan(std::chrono::minutes(130)), "2h 10m");
  EXPECT_EQ(formatSpan(std::chrono::hours(51)), "2d 3h");
  EXPECT_EQ(formatSpan(std::chrono::hours(24 * 90 + 5)), "90d");
  EXPECT_EQ(formatSpan(-std::chrono::hours(3)), "3h 0m");
}

TEST(ParseHostPort, AddressesAndMistakes) {
  auto v4 = parseHostPort("127.0.0.1:9443");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9443);
  auto v6 = parseHostPort("[fd00::1]:443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(parseHostPort("localhost:1")->host, "localhost");
  for (const char* bad : {"", "nohost", ":443", "host:", "host:0", "host:65536", "host:12a",
                          "[fd00::1]443", "host:99999999999999999999"}) {
    EXPECT_FALSE(parseHostPort(bad).ok()) << bad;
  }
}

// What `check` expects is what crds/ installs: same CRDs, same stored version.
TEST(WeftCrds, MatchTheManifestsInCrds) {
  std::map<std::string, std::string> manifests;  // name -> storage version
  for (const auto& entry : std::filesystem::directory_iterator(WEFT_CRDS_DIR)) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    auto text = readFile(entry.path().string());
    ASSERT_TRUE(text.ok());
    auto crd = yaml::parseOne(*text);
    ASSERT_TRUE(crd.ok()) << entry.path();
    for (const auto& v : (*crd)["spec"]["versions"]) {
      if (v.value("storage", false)) {
        EXPECT_TRUE(v.value("served", false)) << entry.path();
        manifests[(*crd)["metadata"]["name"].get<std::string>()] = v["name"].get<std::string>();
      }
    }
  }
  std::map<std::string, std::string> expected;
  for (const auto& r : weftCrds()) {
    expected[r.plural + "." + r.group] = r.version;
  }
  EXPECT_EQ(expected, manifests);
  EXPECT_EQ(expected.size(), 4u);
}

}  // namespace
}  // namespace weft::cli
