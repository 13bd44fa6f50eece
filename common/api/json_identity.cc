// The certify documents (docs/api.md "Certify"): JSON in (validated) and out.
#include <cstdio>
#include <ctime>

#include "common/api/json_reader.h"

namespace weft::api {
namespace {

using detail::child;
using detail::Json;
using detail::Reader;
using SystemClock = std::chrono::system_clock;

bool readRequired(Reader& r, const Json& doc, const char* key) {
  if (!Reader::present(doc, key)) {
    return r.fail(child("", key), "required");
  }
  return true;
}

std::string rfc3339(SystemClock::time_point t) {
  std::time_t tt = SystemClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Only the UTC form the operator writes, "2026-11-30T10:00:00Z".
bool parseRfc3339(const std::string& s, SystemClock::time_point& out) {
  std::tm tm{};
  int n = 0;
  if (s.size() != 20 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
      n != 20 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  out = SystemClock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace

Result<CertifyRequest> certifyRequestFromJson(const Json& doc) {
  Reader r(ParseOptions{.rejectUnknownFields = false});
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "CertifyRequest: expected an object");
  }
  std::string csr;
  if (!r.str(doc, "", "csr", csr) || !readRequired(r, doc, "csr")) {
    return r.error("CertifyRequest");
  }
  if (csr.find("-----BEGIN CERTIFICATE REQUEST-----") == std::string::npos) {
    r.fail("/csr", "expected a PEM certificate request");
    return r.error("CertifyRequest");
  }
  return CertifyRequest{std::move(csr)};
}

Result<CertifyResponse> certifyResponseFromJson(const Json& doc) {
  Reader r(ParseOptions{.rejectUnknownFields = false});
  CertifyResponse out;
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "CertifyResponse: expected an object");
  }
  std::string notAfter;
  if (!r.str(doc, "", "identity", out.identity) ||
      !r.strings(doc, "", "certificateChain", out.certificateChain) ||
      !r.strings(doc, "", "trustBundle", out.trustBundle) ||
      !r.str(doc, "", "notAfter", notAfter) || !readRequired(r, doc, "identity") ||
      !readRequired(r, doc, "certificateChain") || !readRequired(r, doc, "trustBundle") ||
      !readRequired(r, doc, "notAfter") || !detail::checkSpiffe(r, "/identity", out.identity)) {
    return r.error("CertifyResponse");
  }
  if (!parseRfc3339(notAfter, out.notAfter)) {
    r.fail("/notAfter",
           "expected a UTC time like 2026-11-30T10:00:00Z, got \"" + notAfter.substr(0, 64) + "\"");
    return r.error("CertifyResponse");
  }
  if (out.certificateChain.empty()) {
    r.fail("/certificateChain", "must hold at least the leaf certificate");
    return r.error("CertifyResponse");
  }
  for (const auto* list : {&out.certificateChain, &out.trustBundle}) {
    const char* key = list == &out.certificateChain ? "/certificateChain" : "/trustBundle";
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        r.fail(child(key, i), "expected a PEM certificate");
        return r.error("CertifyResponse");
      }
    }
  }
  return out;
}

Json toJson(const CertifyRequest& doc) { return {{"csr", doc.csr}}; }

Json toJson(const CertifyResponse& doc) {
  return {{"identity", doc.identity},
          {"certificateChain", doc.certificateChain},
          {"trustBundle", doc.trustBundle},
          {"notAfter", rfc3339(doc.notAfter)}};
}

}  // namespace weft::api
