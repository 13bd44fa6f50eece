// Certificate judgements on OpenSSL (X509 names, CA flag, host names).
#include "cli/src/check_certs.h"

#include <ctime>

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace weft::cli {

std::string subjectOf(const tls::Cert& cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0,
                                 XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return "?";
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  std::string out = n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
  return out.empty() ? "(empty subject)" : out;
}

std::string formatTime(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string formatSpan(std::chrono::seconds span) {
  using namespace std::chrono;
  long long s = span.count() < 0 ? -span.count() : span.count();
  long long d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60;
  if (d >= 7) {
    return std::to_string(d) + "d";
  }
  if (d > 0) {
    return std::to_string(d) + "d " + std::to_string(h) + "h";
  }
  if (h > 0) {
    return std::to_string(h) + "h " + std::to_string(m) + "m";
  }
  if (m > 0) {
    return std::to_string(m) + "m";
  }
  return std::to_string(s) + "s";
}

Result<std::vector<tls::Cert>> parseCaBundle(std::string_view pem, SystemTime now) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
    return makeError(ErrorCode::kParse, "no PEM certificate in it");
  }
  auto certs = tls::parseCerts(pem);
  if (!certs) {
    return makeError(ErrorCode::kParse, "not valid PEM certificates: " + certs.error().message);
  }
  for (std::size_t i = 0; i < certs->size(); ++i) {
    const auto& cert = (*certs)[i];
    std::string which = "certificate " + std::to_string(i + 1) + " (" + subjectOf(cert) + ")";
    if (X509_check_ca(cert.get()) == 0) {
      return makeError(ErrorCode::kInvalidArgument, which + " is not a CA");
    }
    if (tls::notAfter(cert) <= now) {
      return makeError(ErrorCode::kInvalidArgument,
                       which + " expired on " + formatTime(tls::notAfter(cert)));
    }
    if (tls::notBefore(cert) > now) {
      return makeError(ErrorCode::kInvalidArgument,
                       which + " is not valid before " + formatTime(tls::notBefore(cert)));
    }
  }
  return certs;
}

namespace {

std::vector<std::string> dnsNamesOf(const tls::Cert& cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* s = name->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

Result<void> verifyServing(std::span<const tls::Cert> chain, std::span<const tls::Cert> roots,
                           const std::string& host, SystemTime now) {
  if (chain.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "the server presented no certificate");
  }
  auto verified = tls::verifyChain(chain.front(), chain.subspan(1), roots, now);
  if (!verified) {
    return verified.error();
  }
  // Like the API server: only the DNS SANs count, never the subject's CN.
  if (X509_check_host(chain.front().get(), host.data(), host.size(),
                      X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) != 1) {
    std::string names;
    for (const auto& n : dnsNamesOf(chain.front())) {
      names += names.empty() ? n : ", " + n;
    }
    return makeError(ErrorCode::kPermissionDenied,
                     "the certificate is not valid for " + host +
                         " (its DNS names: " + (names.empty() ? "none" : names) + ")");
  }
  return {};
}

CheckResult expiryCheck(const std::string& name, std::span<const tls::Cert> certs, SystemTime now,
                        std::chrono::seconds window, const std::string& fix) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  if (certs.empty()) {
    return {name, CheckStatus::kFailed, "no certificate to check", fix};
  }
  const tls::Cert* soonest = &certs.front();
  for (const auto& c : certs) {
    if (tls::notBefore(c) > now) {
      return {name, CheckStatus::kFailed,
              subjectOf(c) + " is not valid before " + formatTime(tls::notBefore(c)) +
                  " (is a clock wrong?)",
              fix};
    }
    if (tls::notAfter(c) < tls::notAfter(*soonest)) {
      soonest = &c;
    }
  }
  SystemTime end = tls::notAfter(*soonest);
  auto left = duration_cast<seconds>(end - now);
  std::string who = subjectOf(*soonest);
  std::string count = certs.size() > 1 ? " (soonest of " + std::to_string(certs.size()) + ")" : "";
  if (end <= now) {
    return {name, CheckStatus::kFailed,
            who + count + " expired on " + formatTime(end) + ", " + formatSpan(left) + " ago", fix};
  }
  std::string when = formatTime(end) + ", in " + formatSpan(left);
  if (left < window) {
    return {name, CheckStatus::kWarning, who + count + " expires " + when, fix};
  }
  return {name, CheckStatus::kOk, who + count + " expires " + when, {}};
}

}  // namespace weft::cli
