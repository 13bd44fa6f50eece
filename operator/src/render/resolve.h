// Validation, reference resolution and conflict resolution of the custom
// resources: which ones apply where, and the conditions each one earns.
// Pure functions of the objects.
//
// Conflict rule (as in Gateway API): among resources of one kind attached to
// the same target (Service, or Service and port), the one with the oldest
// creationTimestamp wins, then the one first in name order; the others get
// Accepted=False with reason Conflicted. A port-specific resource is a
// different target from a Service-wide one and is applied after it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json/json.h"
#include "operator/src/render/objects.h"

namespace weft::op::render {

struct Condition {
  std::string type;    // Accepted | ResolvedRefs
  std::string status;  // True | False
  std::string reason;  // CamelCase
  std::string message;
  friend bool operator==(const Condition&, const Condition&) = default;
};

// The conditions one resource should carry now.
struct Verdict {
  Kind kind = Kind::kMesh;
  std::string key;  // "namespace/name"
  std::int64_t generation = 0;
  std::vector<Condition> conditions;
};

struct MeshView {
  std::string trustDomain = "cluster.local";
  std::chrono::seconds certificateLifetime{24 * 3600};  // of workload certificates
  std::string mtlsMode = "PERMISSIVE";
  json::Json policy;  // the defaults every destination starts from
};

// Reads the Mesh named "default" (others are refused). An invalid Mesh is
// reported and the built-in defaults are used.
MeshView resolveMesh(const Objects& objects, std::vector<Verdict>& verdicts);

struct NamespaceView {
  // Winning TrafficPolicy per target "svc" or "svc:port": its policy fields.
  std::map<std::string, json::Json> policies;
  // Winning TrafficRoute per target "svc" or "svc:port".
  std::map<std::string, ObjectPtr> routes;
  // Accepted AccessPolicies, oldest first, with their rules in the documents' shape.
  struct Access {
    ObjectPtr object;
    json::Json rules;
  };
  std::vector<Access> access;
  std::vector<Verdict> verdicts;
};

NamespaceView resolveNamespace(const Objects& objects, const MeshView& mesh, const std::string& ns);

// "backend.demo.svc.cluster.local:8080".
std::string serviceAuthority(const std::string& name, const std::string& ns, std::int64_t port);

// Whether a label selector ({matchLabels, matchExpressions}) selects `labels`.
// An empty selector selects everything.
bool selects(const json::Json& selector, const json::Json& labels);

}  // namespace weft::op::render
