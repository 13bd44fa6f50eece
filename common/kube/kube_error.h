// Typed Kubernetes API errors: a Status body (code, reason, message) mapped
// onto weft::Error so callers can branch on NotFound, Conflict, Expired, ...
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace weft::kube {

// What the API server said, from a `kind: Status` body (or the HTTP status
// alone when the body is not a Status, e.g. "404 page not found").
struct KubeError {
  int code = 0;        // HTTP status (410, 409, ...)
  std::string reason;  // Status.reason: NotFound, Conflict, AlreadyExists, Expired, Forbidden ...
  std::string message;
};

// Parses a Status body; falls back to the HTTP code and the raw text.
KubeError kubeErrorFromBody(int httpCode, std::string_view body);

// weft::Error with a message "<reason> (<code>): <message>"; the code maps
// 401 -> kUnauthenticated, 403 -> kPermissionDenied, 404 -> kNotFound,
// 409 AlreadyExists -> kAlreadyExists, 409 Conflict -> kConflict, 410 ->
// kUnavailable (see isExpired), 400/422 -> kInvalidArgument, 429/5xx -> kUnavailable.
Error toError(const KubeError& error);

// Recovers the KubeError from an Error made by toError (code 0 when it was not).
KubeError kubeErrorOf(const Error& error);

// 410 Gone / Expired: the resourceVersion or continue token is too old; relist.
bool isExpired(const Error& error);
bool isConflict(const Error& error);
bool isNotFound(const Error& error);
bool isAlreadyExists(const Error& error);

}  // namespace weft::kube
