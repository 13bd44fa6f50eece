// Resource paths and the built-in resource table.
#include "common/kube/resource.h"

#include "common/strings.h"

namespace weft::kube {

std::string Resource::path(std::string_view ns, std::string_view name,
                           std::string_view subresource) const {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) {
    out += "/namespaces/";
    out += encodeQuery(ns);
  }
  out += "/" + plural;
  if (!name.empty()) {
    out += "/";
    out += encodeQuery(name);
    if (!subresource.empty()) {
      out += "/";
      out += subresource;
    }
  }
  return out;
}

namespace resources {
Resource pods() { return {"", "v1", "pods", "Pod", true}; }
Resource services() { return {"", "v1", "services", "Service", true}; }
Resource namespaces() { return {"", "v1", "namespaces", "Namespace", false}; }
Resource events() { return {"", "v1", "events", "Event", true}; }
Resource configMaps() { return {"", "v1", "configmaps", "ConfigMap", true}; }
Resource secrets() { return {"", "v1", "secrets", "Secret", true}; }
Resource endpointSlices() {
  return {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true};
}
Resource leases() { return {"coordination.k8s.io", "v1", "leases", "Lease", true}; }
Resource tokenReviews() {
  return {"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false};
}
Resource mutatingWebhookConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "MutatingWebhookConfiguration", false};
}
Resource meshes() { return {"weft.io", "v1alpha1", "meshes", "Mesh", false}; }
Resource trafficPolicies() {
  return {"weft.io", "v1alpha1", "trafficpolicies", "TrafficPolicy", true};
}
Resource trafficRoutes() { return {"weft.io", "v1alpha1", "trafficroutes", "TrafficRoute", true}; }
Resource accessPolicies() {
  return {"weft.io", "v1alpha1", "accesspolicies", "AccessPolicy", true};
}
}  // namespace resources

std::string objectKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) {
    return std::string(name);
  }
  std::string out(ns);
  out += "/";
  out += name;
  return out;
}

std::string encodeQuery(std::string_view value) { return percentEncode(value); }

}  // namespace weft::kube
