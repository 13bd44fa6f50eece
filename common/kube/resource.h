// API resources (group, version, plural) and the URL paths the API server
// serves them at.
#pragma once

#include <string>
#include <string_view>

namespace weft::kube {

struct Resource {
  std::string group;  // "" for core/v1
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/namespaces/NS/pods[/NAME[/SUB]]"; an empty namespace lists across all.
  std::string path(std::string_view ns, std::string_view name = {},
                   std::string_view subresource = {}) const;
  friend bool operator==(const Resource&, const Resource&) = default;
};

// The kinds Weft reads and writes.
namespace resources {
Resource pods();
Resource services();
Resource namespaces();
Resource events();
Resource configMaps();
Resource secrets();
Resource endpointSlices();
Resource leases();
Resource tokenReviews();  // create only
Resource mutatingWebhookConfigurations();
Resource meshes();
Resource trafficPolicies();
Resource trafficRoutes();
Resource accessPolicies();
}  // namespace resources

// "ns/name", or "name" for cluster-scoped objects: the work-queue key.
std::string objectKey(std::string_view ns, std::string_view name);

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string encodeQuery(std::string_view value);

}  // namespace weft::kube
