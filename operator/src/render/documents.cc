// Outbound and Inbound documents from the objects.
#include "operator/src/render/documents.h"

#include <algorithm>
#include <set>

#include <arpa/inet.h>

#include "operator/src/render/pod_lifecycle.h"
#include "operator/src/render/policy.h"
#include "operator/src/render/route.h"

namespace weft::op::render {

using json::Json;

namespace {

constexpr const char* kInjectedAnnotation = "weft.io/injected";
constexpr const char* kProbePathsAnnotation = "weft.io/probe-paths";

std::string str(const Json& obj, const char* pointer) {
  auto v = json::getStringOr(obj, pointer, "");
  return v ? *v : std::string();
}

const Json& member(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) {
    return kNull;
  }
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string hostPort(const std::string& host, std::int64_t port) {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

bool validIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Labels that say nothing about the workload and change on every rollout.
bool noisyLabel(const std::string& k) {
  return k == "pod-template-hash" || k == "controller-revision-hash" ||
         k == "pod-template-generation";
}

struct PodInfo {
  std::string identity;
  bool meshed = false;
  Json labels = Json::object();
};

PodInfo podInfo(const MeshView& mesh, const Json* pod) {
  PodInfo info;
  if (pod == nullptr) {
    return info;
  }
  std::string ns = str(*pod, "/metadata/namespace");
  std::string sa = str(*pod, "/spec/serviceAccountName");
  info.identity = spiffeId(mesh.trustDomain, ns, sa.empty() ? "default" : sa);
  const Json& ann = member(member(*pod, "metadata"), "annotations");
  info.meshed = ann.is_object() && ann.contains(kInjectedAnnotation);
  const Json& labels = member(member(*pod, "metadata"), "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string() && !noisyLabel(k)) {
        info.labels[k] = v;
      }
    }
  }
  if (!info.meshed) {
    info.identity.clear();
  }
  return info;
}

// A named container port of the pod; 0 when absent.
std::int64_t namedContainerPort(const Json* pod, const std::string& name) {
  if (pod == nullptr) {
    return 0;
  }
  const Json& containers = member(member(*pod, "spec"), "containers");
  if (!containers.is_array()) {
    return 0;
  }
  for (const Json& c : containers) {
    const Json& ports = member(c, "ports");
    if (!ports.is_array()) {
      continue;
    }
    for (const Json& p : ports) {
      if (member(p, "name") == name && member(p, "containerPort").is_number_integer()) {
        return member(p, "containerPort").get<std::int64_t>();
      }
    }
  }
  return 0;
}

// The endpoints of one Service port, sorted by address, one per address.
Json endpointsOf(const Objects& objects, const MeshView& mesh, const std::string& serviceKey,
                 const Json& servicePort) {
  std::string portName = str(servicePort, "/name");
  const Json& targetPort = member(servicePort, "targetPort");
  std::int64_t port = member(servicePort, "port").is_number_integer()
                          ? member(servicePort, "port").get<std::int64_t>()
                          : 0;
  std::string ns = serviceKey.substr(0, serviceKey.find('/'));
  std::map<std::string, Json> byAddress;
  for (const ObjectPtr& slice : objects.slicesOf(serviceKey)) {
    std::string family = str(*slice, "/addressType");
    if (family != "IPv4" && family != "IPv6") {
      continue;  // FQDN slices are not dialable endpoints
    }
    std::int64_t slicePort = 0;
    const Json& ports = member(*slice, "ports");
    // A slice that lists ports but not this one does not serve it; a slice
    // without ports (hand-written, local mode) falls back to targetPort.
    bool listsPorts = ports.is_array() && !ports.empty();
    if (ports.is_array()) {
      for (const Json& p : ports) {
        std::string name =
            member(p, "name").is_string() ? member(p, "name").get<std::string>() : "";
        std::string proto =
            member(p, "protocol").is_string() ? member(p, "protocol").get<std::string>() : "TCP";
        if (name == portName && proto == "TCP" && member(p, "port").is_number_integer()) {
          slicePort = member(p, "port").get<std::int64_t>();
        }
      }
    }
    const Json& eps = member(*slice, "endpoints");
    if (!eps.is_array() || (listsPorts && slicePort == 0)) {
      continue;
    }
    for (const Json& ep : eps) {
      const Json& addrs = member(ep, "addresses");
      if (!addrs.is_array() || addrs.empty() || !addrs[0].is_string()) {
        continue;
      }
      std::string address = addrs[0].get<std::string>();
      if (!validIp(address)) {
        continue;
      }
      const Json& cond = member(ep, "conditions");
      // Kubernetes reads an absent ready as true and absent terminating as false.
      bool ready = !member(cond, "ready").is_boolean() || member(cond, "ready").get<bool>();
      bool terminating =
          member(cond, "terminating").is_boolean() && member(cond, "terminating").get<bool>();
      if (terminating) {
        ready = false;
      } else if (!ready) {
        continue;
      }
      const Json* pod = nullptr;
      ObjectPtr podObj;
      const Json& ref = member(ep, "targetRef");
      if (member(ref, "kind") == "Pod" && member(ref, "name").is_string()) {
        std::string podNs =
            member(ref, "namespace").is_string() ? member(ref, "namespace").get<std::string>() : ns;
        podObj = objects.get(Kind::kPod, podNs + "/" + member(ref, "name").get<std::string>());
        pod = podObj.get();
      }
      std::int64_t epPort = slicePort;
      if (epPort == 0 && targetPort.is_number_integer()) {
        epPort = targetPort.get<std::int64_t>();
      }
      if (epPort == 0 && targetPort.is_string()) {
        epPort = namedContainerPort(pod, targetPort.get<std::string>());
      }
      if (epPort == 0 && targetPort.is_null()) {
        epPort = port;
      }
      if (epPort <= 0 || epPort > 65535) {
        continue;  // a named port the pod does not declare: nothing to dial
      }
      PodInfo info = podInfo(mesh, pod);
      std::string key = hostPort(address, epPort);
      Json e{{"address", key},
             {"weight", 1},
             {"zone", member(ep, "zone").is_string() ? member(ep, "zone").get<std::string>() : ""},
             {"ready", ready},
             {"terminating", terminating},
             {"meshed", info.meshed},
             {"identity", info.identity},
             {"labels", info.labels}};
      auto it = byAddress.find(key);
      // The same address in two slices (during a handover): keep the ready one.
      if (it == byAddress.end() || (!it->second["ready"].get<bool>() && ready)) {
        byAddress[key] = std::move(e);
      }
    }
  }
  Json out = Json::array();
  for (auto& [k, v] : byAddress) {
    out.push_back(std::move(v));
  }
  return out;
}

const Json* findServicePort(const Json& service, std::int64_t port) {
  const Json& ports = member(member(service, "spec"), "ports");
  if (!ports.is_array()) {
    return nullptr;
  }
  for (const Json& p : ports) {
    if (member(p, "port").is_number_integer() && member(p, "port").get<std::int64_t>() == port) {
      return &p;
    }
  }
  return nullptr;
}

}  // namespace

std::string spiffeId(const std::string& trustDomain, const std::string& ns, const std::string& sa) {
  return "spiffe://" + trustDomain + "/ns/" + ns + "/sa/" + sa;
}

std::string protocolOf(const std::string& appProtocol, const std::string& name, std::int64_t port) {
  auto classify = [](const std::string& raw) -> std::string {
    std::string s = lower(raw);
    if (s == "http" || s == "http2" || s == "grpc" || s == "h2c" || s == "kubernetes.io/h2c" ||
        s.starts_with("http-") || s.starts_with("grpc-") || s.starts_with("http2-")) {
      return "http";
    }
    if (s == "tcp" || s == "tls" || s == "https" || s.starts_with("tcp-") ||
        s.starts_with("tls-") || s.starts_with("https-")) {
      return "tcp";
    }
    return "";
  };
  if (auto p = classify(appProtocol); !p.empty()) {
    return p;
  }
  if (auto p = classify(name); !p.empty()) {
    return p;
  }
  static const std::set<std::int64_t> kOpaque = {22,   25,   443,  587,   2181, 3306,
                                                 4222, 5432, 5671, 5672,  6379, 6443,
                                                 9042, 9092, 9093, 11211, 27017};
  return kOpaque.contains(port) ? "tcp" : "http";
}

std::vector<OutboundDoc> renderOutbound(const Objects& objects, const MeshView& mesh,
                                        const NamespaceView& view, const Json& service) {
  std::vector<OutboundDoc> out;
  if (str(service, "/spec/type") == "ExternalName") {
    return out;
  }
  std::string name = str(service, "/metadata/name");
  std::string ns = str(service, "/metadata/namespace");
  std::string serviceKey = ns + "/" + name;
  std::vector<std::string> ips;
  const Json& specJson = member(service, "spec");
  if (member(specJson, "clusterIPs").is_array()) {
    for (const Json& ip : member(specJson, "clusterIPs")) {
      if (ip.is_string() && validIp(ip.get<std::string>())) {
        ips.push_back(ip.get<std::string>());
      }
    }
  }
  std::string clusterIp = str(service, "/spec/clusterIP");
  if (validIp(clusterIp) && std::find(ips.begin(), ips.end(), clusterIp) == ips.end()) {
    ips.insert(ips.begin(), clusterIp);
  }
  const Json& ports = member(specJson, "ports");
  if (!ports.is_array()) {
    return out;
  }
  std::set<std::int64_t> seen;
  for (const Json& sp : ports) {
    std::string proto =
        member(sp, "protocol").is_string() ? member(sp, "protocol").get<std::string>() : "TCP";
    if (proto != "TCP" || !member(sp, "port").is_number_integer()) {
      continue;
    }
    std::int64_t port = member(sp, "port").get<std::int64_t>();
    if (port < 1 || port > 65535 || !seen.insert(port).second) {
      continue;
    }
    OutboundDoc d;
    d.authority = serviceAuthority(name, ns, port);
    std::string ps = ":" + std::to_string(port);
    d.aliases = {name + ps, name + "." + ns + ps, name + "." + ns + ".svc" + ps};
    for (const auto& ip : ips) {
      d.aliases.push_back(hostPort(ip, port));
    }
    Json policy = mesh.policy;
    for (const std::string& target : {name, name + ps}) {
      if (auto it = view.policies.find(target); it != view.policies.end()) {
        // Validated when resolved; a failure here cannot happen but must not half-apply.
        if (auto r = applyPolicy(it->second, "spec", policy); !r) {
          policy = mesh.policy;
        }
      }
    }
    Json backends = Json::object();
    backends[d.authority] = {{"endpoints", endpointsOf(objects, mesh, serviceKey, sp)}};
    Json routes = Json::array();
    ObjectPtr route;
    if (auto it = view.routes.find(name + ps); it != view.routes.end()) {
      route = it->second;
    } else if (auto it2 = view.routes.find(name); it2 != view.routes.end()) {
      route = it2->second;
    }
    if (route) {
      std::map<std::string, BackendRef> refs;
      auto rendered = renderRoutes(*route, refs);
      if (rendered) {
        routes = std::move(*rendered);
        for (const auto& [authority, ref] : refs) {
          if (backends.contains(authority)) {
            continue;
          }
          Json eps = Json::array();
          if (ObjectPtr other = objects.get(Kind::kService, ref.serviceKey)) {
            if (const Json* op = findServicePort(*other, ref.port)) {
              eps = endpointsOf(objects, mesh, ref.serviceKey, *op);
            }
          }
          backends[authority] = {{"endpoints", eps}};
        }
      }
    }
    d.doc = Json{{"kind", "Outbound"},
                 {"authority", d.authority},
                 {"aliases", d.aliases},
                 {"protocol", protocolOf(str(sp, "/appProtocol"), str(sp, "/name"), port)},
                 {"policy", policy},
                 {"backends", backends},
                 {"routes", routes}};
    out.push_back(std::move(d));
  }
  return out;
}

Json emptyOutbound(const std::string& authority) {
  return Json{{"kind", "Outbound"},     {"authority", authority},    {"aliases", Json::array()},
              {"protocol", "http"},     {"policy", defaultPolicy()}, {"backends", Json::object()},
              {"routes", Json::array()}};
}

Json emptyInbound(const std::string& podKey, const MeshView& mesh) {
  return Json{{"kind", "Inbound"},
              {"pod", podKey},
              {"identity", ""},
              {"mtls", mesh.mtlsMode},
              {"ports", Json::array()},
              {"probes", Json::array()},
              {"authorization", {{"rules", Json::array()}}},
              {"trustBundle", Json::array()}};
}

Json renderInbound(const MeshView& mesh, const NamespaceView& view, const Objects& objects,
                   const Json& pod, std::vector<std::string>& problems) {
  std::string ns = str(pod, "/metadata/namespace");
  std::string name = str(pod, "/metadata/name");
  std::string sa = str(pod, "/spec/serviceAccountName");
  Json doc = emptyInbound(ns + "/" + name, mesh);
  doc["identity"] = spiffeId(mesh.trustDomain, ns, sa.empty() ? "default" : sa);

  std::map<std::int64_t, std::string> ports;
  const Json& containers = member(member(pod, "spec"), "containers");
  if (containers.is_array()) {
    for (const Json& c : containers) {
      const Json& cp = member(c, "ports");
      if (!cp.is_array()) {
        continue;
      }
      for (const Json& p : cp) {
        std::string proto =
            member(p, "protocol").is_string() ? member(p, "protocol").get<std::string>() : "TCP";
        const Json& n = member(p, "containerPort");
        if (proto != "TCP" || !n.is_number_integer() || n.get<std::int64_t>() < 1 ||
            n.get<std::int64_t>() > 65535) {
          continue;
        }
        std::int64_t port = n.get<std::int64_t>();
        ports.emplace(port, protocolOf(str(p, "/appProtocol"), str(p, "/name"), port));
      }
    }
  }
  for (const auto& [port, proto] : ports) {
    doc["ports"].push_back({{"port", port}, {"protocol", proto}});
  }

  const Json& ann = member(member(pod, "metadata"), "annotations");
  if (ann.is_object() && ann.contains(kProbePathsAnnotation)) {
    const Json& raw = ann[kProbePathsAnnotation];
    auto parsed = raw.is_string() ? json::parse(raw.get<std::string>())
                                  : Result<Json>(makeError(ErrorCode::kParse, "not a string"));
    Json probes = Json::array();
    std::string problem;
    if (!parsed || !parsed->is_array()) {
      problem = parsed ? "not a JSON list" : parsed.error().message;
    } else {
      for (const Json& p : *parsed) {
        const Json& port = member(p, "port");
        const Json& path = member(p, "path");
        if (!port.is_number_integer() || port.get<std::int64_t>() < 1 ||
            port.get<std::int64_t>() > 65535 || !path.is_string() ||
            !path.get<std::string>().starts_with("/")) {
          problem = "each entry needs a port (1-65535) and a path starting with /";
          break;
        }
        probes.push_back({{"port", port}, {"path", path}});
      }
    }
    if (problem.empty()) {
      doc["probes"] = probes;
    } else {
      problems.push_back(std::string("annotation ") + kProbePathsAnnotation + ": " + problem);
    }
  }

  for (const auto& access : view.access) {
    if (accessApplies(objects, *access.object, pod)) {
      for (const Json& rule : access.rules) {
        doc["authorization"]["rules"].push_back(rule);
      }
    }
  }
  if (appContainersTerminated(pod)) {
    doc["appContainersTerminated"] = true;
  }
  return doc;
}

bool accessApplies(const Objects& objects, const Json& accessPolicy, const Json& pod) {
  const Json& labels = member(member(pod, "metadata"), "labels");
  const Json noLabels = Json::object();
  const Json& podLabels = labels.is_object() ? labels : noLabels;
  const Json& s = member(accessPolicy, "spec");
  if (s.contains("targetRef")) {
    std::string ns = str(accessPolicy, "/metadata/namespace");
    ObjectPtr svc = objects.get(Kind::kService, ns + "/" + str(s, "/targetRef/name"));
    const Json& sel = svc ? member(member(*svc, "spec"), "selector") : Json();
    return sel.is_object() && !sel.empty() && selects(Json{{"matchLabels", sel}}, podLabels);
  }
  if (s.contains("selector")) {
    return selects(s["selector"], podLabels);
  }
  return true;
}

}  // namespace weft::op::render
