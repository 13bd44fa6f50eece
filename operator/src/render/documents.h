// Rendering: Services, EndpointSlices, Pods and the resolved custom resources
// into the Outbound and Inbound documents of docs/api.md (without `version`,
// which the publisher sets from the content). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/json/json.h"
#include "operator/src/render/objects.h"
#include "operator/src/render/resolve.h"

namespace weft::op::render {

struct OutboundDoc {
  std::string authority;             // "svc.ns.svc.cluster.local:port"
  std::vector<std::string> aliases;  // other names it is subscribed by
  json::Json doc;
};

// One document per TCP port of the Service (none for ExternalName Services).
//
// Endpoints come from the Service's EndpointSlices: ready ones, and
// terminating ones with terminating=true and ready=false so proxies drain
// them; others are left out. The port is the slice port named like the
// Service port; a slice without a `ports` list (hand-written) falls back to a
// numeric targetPort, else a named targetPort looked up in the endpoint's Pod,
// else the Service port. identity and meshed come from the Pod.
//
// protocol: appProtocol or the port name (http, http2, grpc, h2c, http-*,
// grpc-* -> http; tcp, tls, tcp-*, tls-* -> tcp), else tcp for well-known
// non-HTTP ports (databases, brokers, TLS) and http otherwise.
std::vector<OutboundDoc> renderOutbound(const Objects& objects, const MeshView& mesh,
                                        const NamespaceView& view, const json::Json& service);

// What a subscriber to an unknown authority gets: no endpoints.
json::Json emptyOutbound(const std::string& authority);

// The Inbound document of a Pod. Problems with the Pod's own annotations are
// appended to `problems` (the annotation is then ignored).
// appContainersTerminated is set as pod_lifecycle.h says.
json::Json renderInbound(const MeshView& mesh, const NamespaceView& view, const Objects& objects,
                         const json::Json& pod, std::vector<std::string>& problems);

// Whether an AccessPolicy (of the Pod's namespace) applies to the Pod: its
// targetRef Service selects it, or its selector does, or it has neither.
bool accessApplies(const Objects& objects, const json::Json& accessPolicy, const json::Json& pod);

// What a subscriber to an unknown pod gets.
json::Json emptyInbound(const std::string& podKey, const MeshView& mesh);

// "spiffe://<trustDomain>/ns/<ns>/sa/<sa>".
std::string spiffeId(const std::string& trustDomain, const std::string& ns, const std::string& sa);

// "http" or "tcp" for a port, by the rule above.
std::string protocolOf(const std::string& appProtocol, const std::string& name, std::int64_t port);

}  // namespace weft::op::render
