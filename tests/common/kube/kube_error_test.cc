// Status bodies (as recorded from kube-apiserver) become typed errors.
#include "common/kube/kube_error.h"

#include <gtest/gtest.h>

#include "common/file.h"

namespace weft::kube {
namespace {

KubeError fromFixture(const std::string& name, int code) {
  auto body = readFile("tests/fixtures/k8s/" + name);
  EXPECT_TRUE(body.ok()) << name;
  return kubeErrorFromBody(code, body.valueOr(""));
}

TEST(KubeErrorTest, RecordedStatusBodiesMapToErrorCodes) {
  struct Case {
    const char* file;
    int code;
    const char* reason;
    ErrorCode mapped;
  } cases[] = {
      {"error-409-conflict-stale-rv.json", 409, "Conflict", ErrorCode::kConflict},
      {"error-409-already-exists.json", 409, "AlreadyExists", ErrorCode::kAlreadyExists},
      {"error-404-pod-not-found.json", 404, "NotFound", ErrorCode::kNotFound},
      {"error-403-rbac-list-widgets.json", 403, "Forbidden", ErrorCode::kPermissionDenied},
      {"error-401-bad-token.json", 401, "Unauthorized", ErrorCode::kUnauthenticated},
      {"error-410-expired-continue-token.json", 410, "Expired", ErrorCode::kUnavailable},
      {"error-422-missing-required.json", 422, "Invalid", ErrorCode::kInvalidArgument},
      {"error-415-unsupported-patch-type.json", 415, "UnsupportedMediaType",
       ErrorCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    KubeError k = fromFixture(c.file, c.code);
    EXPECT_EQ(k.code, c.code) << c.file;
    EXPECT_EQ(k.reason, c.reason) << c.file;
    EXPECT_FALSE(k.message.empty());
    Error e = toError(k);
    EXPECT_EQ(e.code, c.mapped) << c.file;
    KubeError back = kubeErrorOf(e);
    EXPECT_EQ(back.code, k.code);
    EXPECT_EQ(back.reason, k.reason);
    EXPECT_EQ(back.message, k.message);
    EXPECT_EQ(isExpired(e), c.code == 410) << c.file;
  }
}

TEST(KubeErrorTest, NonStatusBodiesKeepTheHttpCode) {
  KubeError k = kubeErrorFromBody(404, "404 page not found\n");
  EXPECT_EQ(k.code, 404);
  EXPECT_EQ(k.reason, "NotFound");
  EXPECT_EQ(toError(k).code, ErrorCode::kNotFound);
  EXPECT_EQ(toError(kubeErrorFromBody(503, "")).code, ErrorCode::kUnavailable);
  EXPECT_EQ(toError(kubeErrorFromBody(429, "{}")).code, ErrorCode::kUnavailable);
  // Errors not made from a Status carry no Kubernetes code.
  EXPECT_EQ(kubeErrorOf(makeError(ErrorCode::kIo, "disk (on fire): x")).code, 0);
  EXPECT_FALSE(isExpired(makeError(ErrorCode::kUnavailable, "connection refused")));
}

}  // namespace
}  // namespace weft::kube
