// Kind names and object keys shared by every source.
#include "operator/src/source/source.h"

#include "common/json/json.h"

namespace weft::op::source {

const char* kindName(Kind kind) {
  switch (kind) {
    case Kind::kMesh:
      return "Mesh";
    case Kind::kTrafficPolicy:
      return "TrafficPolicy";
    case Kind::kTrafficRoute:
      return "TrafficRoute";
    case Kind::kAccessPolicy:
      return "AccessPolicy";
    case Kind::kService:
      return "Service";
    case Kind::kEndpointSlice:
      return "EndpointSlice";
    case Kind::kPod:
      return "Pod";
    case Kind::kNamespace:
      return "Namespace";
  }
  return "Unknown";
}

const char* apiVersionOf(Kind kind) {
  switch (kind) {
    case Kind::kMesh:
    case Kind::kTrafficPolicy:
    case Kind::kTrafficRoute:
    case Kind::kAccessPolicy:
      return "weft.io/v1alpha1";
    case Kind::kEndpointSlice:
      return "discovery.k8s.io/v1";
    case Kind::kService:
    case Kind::kPod:
    case Kind::kNamespace:
      return "v1";
  }
  return "";
}

bool isClusterScoped(Kind kind) { return kind == Kind::kMesh || kind == Kind::kNamespace; }

std::optional<Kind> kindOf(std::string_view apiVersion, std::string_view kind) {
  for (Kind k : kAllKinds) {
    if (kind == kindName(k) && apiVersion == apiVersionOf(k)) {
      return k;
    }
  }
  return std::nullopt;
}

std::string keyOf(const nlohmann::json& object) {
  std::string ns;
  std::string name;
  if (auto it = object.find("metadata"); it != object.end() && it->is_object()) {
    if (auto n = it->find("namespace"); n != it->end() && n->is_string()) {
      ns = n->get<std::string>();
    }
    if (auto n = it->find("name"); n != it->end() && n->is_string()) {
      name = n->get<std::string>();
    }
  }
  return ns + "/" + name;
}

}  // namespace weft::op::source
