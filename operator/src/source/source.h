// Source: where the operator's objects come from (the Kubernetes API, or a
// folder in local mode). Both feed the same Sink, so nothing downstream knows
// which one runs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace weft::op::source {

// The kinds the operator watches.
enum class Kind {
  kMesh,
  kTrafficPolicy,
  kTrafficRoute,
  kAccessPolicy,
  kService,
  kEndpointSlice,
  kPod,
  kNamespace,
};

inline constexpr Kind kAllKinds[] = {
    Kind::kMesh,    Kind::kTrafficPolicy, Kind::kTrafficRoute, Kind::kAccessPolicy,
    Kind::kService, Kind::kEndpointSlice, Kind::kPod,          Kind::kNamespace};

// "Mesh", "EndpointSlice", ... (the Kubernetes kind).
const char* kindName(Kind kind);
// "weft.io/v1alpha1", "v1", "discovery.k8s.io/v1".
const char* apiVersionOf(Kind kind);
// Mesh and Namespace have no namespace.
bool isClusterScoped(Kind kind);
// The kind for an object's apiVersion and kind; nullopt when we do not watch it.
std::optional<Kind> kindOf(std::string_view apiVersion, std::string_view kind);

// Objects are shared and never mutated once handed over.
using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// Receives what a source sees. Thread-safe: a source may call it from any one
// thread of its own. Keys are "namespace/name" ("/name" when cluster-scoped).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void upsert(Kind kind, ObjectPtr object) = 0;
  virtual void remove(Kind kind, const std::string& key) = 0;
  // Everything of `kind` is now exactly `objects` (a first list or a relist).
  virtual void replace(Kind kind, std::vector<ObjectPtr> objects) = 0;
  // Every kind has been listed once; called once.
  virtual void synced() = 0;
};

// "namespace/name" of an object (namespace empty when cluster-scoped).
std::string keyOf(const nlohmann::json& object);

// A source of objects. start() returns once watching has begun (its first
// list may still be in flight); the source then calls the sink until stop().
// The sink must outlive the source.
class Source {
 public:
  virtual ~Source() = default;
  [[nodiscard]] virtual Result<void> start(Sink& sink) = 0;
  // Stops calling the sink; returns after the last call finished.
  virtual void stop() = 0;
};

}  // namespace weft::op::source
