// admission.k8s.io/v1 AdmissionReview in, AdmissionReview out: decodes the
// request, echoes its uid, runs the pure injector and encodes the answer
// (base64 JSONPatch, warnings, or a denial). Never throws.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "webhook/src/inject/inject.h"

namespace weft::webhook::admission {

// The labels of a namespace, for the namespace opt-in. Implementations must be
// thread-safe; a failure is an internal error (failurePolicy decides).
class NamespaceLabels {
 public:
  virtual ~NamespaceLabels() = default;
  virtual Result<std::map<std::string, std::string>> labels(const std::string& namespaceName) = 0;
};

// Labels from a fixed table (the --inject-namespace fallback without a kube
// client); unknown namespaces have none.
class StaticNamespaceLabels : public NamespaceLabels {
 public:
  explicit StaticNamespaceLabels(std::map<std::string, std::map<std::string, std::string>> table)
      : table_(std::move(table)) {}
  // NamespaceLabels
  Result<std::map<std::string, std::string>> labels(const std::string& namespaceName) override;

 private:
  std::map<std::string, std::map<std::string, std::string>> table_;
};

// The mesh's trust anchors that injection hands each proxy (env
// WEFT_TRUST_ANCHORS), so that it can verify the control plane's certificate.
class TrustBundle {
 public:
  virtual ~TrustBundle() = default;
  // The PEM roots to inject, or nullopt while none is known. Thread-safe.
  virtual std::optional<std::string> current() const = 0;
  // Where they come from, for messages ("ConfigMap weft-system/weft-trust-bundle").
  virtual std::string source() const = 0;
};

// How an AdmissionReview was answered; `result` labels the metric.
struct Reply {
  int httpStatus = 200;
  std::string body;    // the AdmissionReview JSON (or a plain-text error)
  std::string result;  // injected | unchanged | skipped | ignored | refused | invalid | error
};

class Mutator {
 public:
  // With `trustBundle` (must outlive this), every proxy gets its current
  // roots, and a pod to mesh is refused with 500 while there are none: a
  // proxy without them could never trust the control plane.
  Mutator(inject::Options options, NamespaceLabels& labels,
          const TrustBundle* trustBundle = nullptr)
      : options_(std::move(options)), labels_(labels), trustBundle_(trustBundle) {}

  // Thread-safe. 400 for bodies that are not an AdmissionReview, 500 for
  // internal failures (so failurePolicy applies), 200 for every decision.
  Reply review(std::string_view body) const noexcept;

 private:
  Reply reviewOrThrow(std::string_view body) const;

  inject::Options options_;
  NamespaceLabels& labels_;
  const TrustBundle* trustBundle_;
};

std::string base64Encode(std::string_view bytes);

}  // namespace weft::webhook::admission
