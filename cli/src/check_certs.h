// Certificate judgements for `weftctl check`, pure functions of PEM, time
// and the warning window: bundles of CAs, expiry, and whether a presented
// serving chain verifies against a caBundle for a host name.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/src/check_report.h"
#include "common/result.h"
#include "common/tls/pki.h"

namespace weft::cli {

using tls::SystemTime;

// "CN=weft-injector-ca" (the subject, one line); "?" when unreadable.
std::string subjectOf(const tls::Cert& cert);
// "2026-03-01 12:00 UTC"
std::string formatTime(SystemTime t);
// "89d", "5d 3h", "4h 10m", "42s": a duration for people.
std::string formatSpan(std::chrono::seconds span);

// A PEM bundle of CA certificates, every one of them valid now: an error says
// which certificate is wrong (not PEM, not a CA, expired, not yet valid).
Result<std::vector<tls::Cert>> parseCaBundle(std::string_view pem, SystemTime now);

// Verifies `chain` (leaf first, as presented in a handshake) against `roots`
// at `now`, and that the leaf is valid for `host` (a DNS SAN).
Result<void> verifyServing(std::span<const tls::Cert> chain, std::span<const tls::Cert> roots,
                           const std::string& host, SystemTime now);

// The expiry check of a group of certificates, judged by the soonest to
// expire: failed when expired or not yet valid, a warning inside `window`,
// ok otherwise. `fix` is attached to a warning or failure.
CheckResult expiryCheck(const std::string& name, std::span<const tls::Cert> certs, SystemTime now,
                        std::chrono::seconds window, const std::string& fix);

}  // namespace weft::cli
