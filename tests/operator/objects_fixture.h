// Builds render::Objects from YAML text for operator unit tests, filling in
// the metadata a source would synthesise.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/json/json.h"
#include "common/yaml/yaml.h"
#include "operator/src/render/objects.h"
#include "operator/src/source/source.h"

namespace weft::op::testing {

using json::Json;

// Every object of the YAML stream, with namespace "demo" unless given,
// generation 1 and a fixed creationTimestamp unless given.
inline std::vector<std::pair<source::Kind, source::ObjectPtr>> parseObjects(
    const std::string& text) {
  std::vector<std::pair<source::Kind, source::ObjectPtr>> out;
  auto docs = yaml::parseAll(text);
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().message);
  if (!docs.ok()) {
    return out;
  }
  for (Json& d : *docs) {
    auto kind = source::kindOf(d.value("apiVersion", ""), d.value("kind", ""));
    EXPECT_TRUE(kind.has_value()) << d.dump();
    if (!kind) {
      continue;
    }
    Json& meta = d["metadata"];
    if (!source::isClusterScoped(*kind) && !meta.contains("namespace")) {
      meta["namespace"] = "demo";
    }
    if (!meta.contains("generation")) {
      meta["generation"] = 1;
    }
    if (!meta.contains("creationTimestamp")) {
      meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
    }
    out.emplace_back(*kind, std::make_shared<const Json>(std::move(d)));
  }
  return out;
}

inline void load(render::Objects& objects, const std::string& text) {
  for (auto& [kind, obj] : parseObjects(text)) {
    objects.upsert(kind, obj);
  }
}

// A Service with a selector app=<name>, port 8080 named http -> targetPort http.
inline std::string service(const std::string& name, const std::string& ip) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name +
         "}\nspec:\n  clusterIP: " + ip + "\n  selector: {app: " + name +
         "}\n  ports: [{name: http, port: 8080, targetPort: http}]\n---\n";
}

// A meshed Pod with service account `sa`, labels app=<app>, version=<version>.
inline std::string pod(const std::string& name, const std::string& app, const std::string& sa,
                       const std::string& version = "v1") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  labels: {app: " + app +
         ", version: " + version +
         ", pod-template-hash: abc}\n  annotations: {weft.io/injected: "
         "\"0.1.0\"}\nspec:\n  serviceAccountName: " +
         sa + "\n  containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]\n---\n";
}

// An EndpointSlice for `svc` with ready endpoints "ip=pod" pairs.
inline std::string slice(const std::string& name, const std::string& svc,
                         const std::vector<std::pair<std::string, std::string>>& endpoints,
                         int port = 8080) {
  std::string s =
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + name +
      "\n  labels: {kubernetes.io/service-name: " + svc +
      "}\naddressType: IPv4\nports: [{name: http, port: " + std::to_string(port) +
      ", protocol: TCP}]\nendpoints:\n";
  for (const auto& [ip, p] : endpoints) {
    s += "  - addresses: [" + ip + "]\n    conditions: {ready: true}\n";
    if (!p.empty()) {
      s += "    targetRef: {kind: Pod, name: " + p + ", namespace: demo}\n";
    }
  }
  return s + "---\n";
}

}  // namespace weft::op::testing
