// Status body parsing and the mapping of Kubernetes errors onto weft::Error.
#include "common/kube/kube_error.h"

#include <charconv>

#include "common/json/json.h"

namespace weft::kube {

KubeError kubeErrorFromBody(int httpCode, std::string_view body) {
  KubeError out;
  out.code = httpCode;
  auto parsed = json::parse(body);
  if (parsed.ok() && parsed->is_object() && parsed->contains("kind") &&
      (*parsed)["kind"] == "Status") {
    const auto& status = *parsed;
    if (status.contains("code") && status["code"].is_number_integer()) {
      out.code = status["code"].get<int>();
    }
    if (status.contains("reason") && status["reason"].is_string()) {
      out.reason = status["reason"].get<std::string>();
    }
    if (status.contains("message") && status["message"].is_string()) {
      out.message = status["message"].get<std::string>();
    }
  } else {
    // Not a Status (e.g. an unknown API group gives "404 page not found").
    out.message = std::string(body.substr(0, 512));
  }
  if (out.reason.empty()) {
    switch (out.code) {
      case 400:
        out.reason = "BadRequest";
        break;
      case 401:
        out.reason = "Unauthorized";
        break;
      case 403:
        out.reason = "Forbidden";
        break;
      case 404:
        out.reason = "NotFound";
        break;
      case 409:
        out.reason = "Conflict";
        break;
      case 410:
        out.reason = "Expired";
        break;
      case 422:
        out.reason = "Invalid";
        break;
      case 429:
        out.reason = "TooManyRequests";
        break;
      default:
        out.reason = out.code >= 500 ? "InternalError" : "Unknown";
        break;
    }
  }
  return out;
}

Error toError(const KubeError& error) {
  ErrorCode code = ErrorCode::kInternal;
  if (error.code == 401) {
    code = ErrorCode::kUnauthenticated;
  } else if (error.code == 403) {
    code = ErrorCode::kPermissionDenied;
  } else if (error.code == 404) {
    code = ErrorCode::kNotFound;
  } else if (error.code == 409) {
    code = error.reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
  } else if (error.code == 410 || error.code == 429 || error.code >= 500) {
    code = ErrorCode::kUnavailable;
  } else if (error.code == 400 || error.code == 422 || error.code == 415 || error.code == 405) {
    code = ErrorCode::kInvalidArgument;
  } else if (error.code == 408 || error.code == 504) {
    code = ErrorCode::kTimeout;
  }
  return Error{code, error.reason + " (" + std::to_string(error.code) + "): " + error.message};
}

KubeError kubeErrorOf(const Error& error) {
  KubeError out;
  const auto& m = error.message;
  auto open = m.find(" (");
  auto close = m.find("): ");
  if (open == std::string::npos || close == std::string::npos || close < open + 2) {
    out.message = m;
    return out;
  }
  int code = 0;
  auto [ptr, ec] = std::from_chars(m.data() + open + 2, m.data() + close, code);
  if (ec != std::errc() || ptr != m.data() + close) {
    out.message = m;
    return out;
  }
  out.code = code;
  out.reason = m.substr(0, open);
  out.message = m.substr(close + 3);
  return out;
}

bool isExpired(const Error& error) {
  auto k = kubeErrorOf(error);
  return k.code == 410 || (k.code != 0 && k.reason == "Expired");
}

bool isConflict(const Error& error) { return error.code == ErrorCode::kConflict; }
bool isNotFound(const Error& error) { return error.code == ErrorCode::kNotFound; }
bool isAlreadyExists(const Error& error) { return error.code == ErrorCode::kAlreadyExists; }

}  // namespace weft::kube
