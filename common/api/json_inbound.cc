// Inbound documents, and dispatch on `kind`: JSON in (validated) and out.
#include <algorithm>

#include "common/api/json_reader.h"

namespace weft::api {
namespace {

using detail::child;
using detail::Json;
using detail::Reader;

bool readRule(Reader& r, const Json& node, const std::string& path, AuthzRule& out) {
  if (!node.is_object()) {
    return r.fail(path, "expected an object");
  }
  if (!r.object(node, path, {"action", "from", "ports", "methods", "paths"}) ||
      !r.enumeration<AuthzAction>(node, path, "action",
                                  {{"ALLOW", AuthzAction::kAllow}, {"DENY", AuthzAction::kDeny}},
                                  out.action) ||
      !r.strings(node, path, "methods", out.methods)) {
    return false;
  }
  if (!Reader::present(node, "action")) {
    return r.fail(child(path, "action"), "required (ALLOW or DENY)");
  }
  if (Reader::present(node, "from")) {
    const Json& f = node.at("from");
    const std::string p = child(path, "from");
    if (!r.object(f, p, {"identities", "namespaces"}) ||
        !r.strings(f, p, "identities", out.from.identities) ||
        !r.strings(f, p, "namespaces", out.from.namespaces)) {
      return false;
    }
    for (std::size_t i = 0; i < out.from.identities.size(); ++i) {
      if (!detail::checkSpiffe(r, child(child(p, "identities"), i), out.from.identities[i])) {
        return false;
      }
    }
    for (std::size_t i = 0; i < out.from.namespaces.size(); ++i) {
      const std::string& ns = out.from.namespaces[i];
      // A Kubernetes namespace is a DNS label (RFC 1123).
      const bool label = !ns.empty() && ns.size() <= 63 && ns.front() != '-' && ns.back() != '-' &&
                         std::all_of(ns.begin(), ns.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                         });
      if (!label) {
        return r.fail(child(child(p, "namespaces"), i),
                      "expected a namespace name (a DNS label), got \"" + ns.substr(0, 64) + "\"");
      }
    }
  }
  // Each entry is read through a one-member object so the error path ends in its index.
  if (Reader::present(node, "ports")) {
    const Json& ps = node.at("ports");
    const std::string p = child(path, "ports");
    if (!r.array(ps, p)) {
      return false;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (ps[i].is_null()) {
        return r.fail(child(p, i), "expected an integer in 1..65535, got null");
      }
      Json holder = {{std::to_string(i), ps[i]}};
      int port = 0;
      if (!r.integer(holder, p, std::to_string(i).c_str(), 1, 65535, port)) {
        return false;
      }
      out.ports.push_back(port);
    }
  }
  for (std::size_t i = 0; i < out.methods.size(); ++i) {
    if (!detail::checkToken(r, child(child(path, "methods"), i), out.methods[i], "a method")) {
      return false;
    }
  }
  if (Reader::present(node, "paths")) {
    const Json& ps = node.at("paths");
    const std::string p = child(path, "paths");
    if (!r.array(ps, p)) {
      return false;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      PathMatch m;
      if (!detail::checkPathMatch(r, child(p, i), ps[i], m)) {
        return false;
      }
      out.paths.push_back(std::move(m));
    }
  }
  return true;
}

bool readInbound(Reader& r, const Json& doc, Inbound& out) {
  if (!r.object(doc, "",
                {"kind", "version", "pod", "identity", "mtls", "ports", "probes", "authorization",
                 "trustBundle", "appContainersTerminated"}) ||
      !detail::readVersion(r, doc, out.version) || !r.str(doc, "", "pod", out.pod) ||
      !r.str(doc, "", "identity", out.identity) ||
      !r.enumeration<MtlsMode>(
          doc, "", "mtls", {{"PERMISSIVE", MtlsMode::kPermissive}, {"STRICT", MtlsMode::kStrict}},
          out.mtls) ||
      !r.strings(doc, "", "trustBundle", out.trustBundle) ||
      !r.boolean(doc, "", "appContainersTerminated", out.appContainersTerminated)) {
    return false;
  }
  const auto slash = out.pod.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == out.pod.size() ||
      out.pod.find('/', slash + 1) != std::string::npos) {
    return r.fail("/pod", Reader::present(doc, "pod") ? "expected namespace/name" : "required");
  }
  if (!out.identity.empty() && !detail::checkSpiffe(r, "/identity", out.identity)) {
    return false;
  }
  if (Reader::present(doc, "ports")) {
    const Json& ps = doc.at("ports");
    if (!r.array(ps, "/ports")) {
      return false;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const std::string p = child("/ports", i);
      InboundPort port;
      if (!ps[i].is_object()) {
        return r.fail(p, "expected an object {port, protocol}");
      }
      if (!r.object(ps[i], p, {"port", "protocol"}) ||
          !r.integer(ps[i], p, "port", 1, 65535, port.port) ||
          !r.enumeration<Protocol>(ps[i], p, "protocol", detail::kProtocols, port.protocol)) {
        return false;
      }
      if (!Reader::present(ps[i], "port")) {
        return r.fail(child(p, "port"), "required");
      }
      for (const auto& seen : out.ports) {
        if (seen.port == port.port) {
          return r.fail(child(p, "port"), "duplicate port " + std::to_string(port.port));
        }
      }
      out.ports.push_back(port);
    }
  }
  if (Reader::present(doc, "probes")) {
    const Json& ps = doc.at("probes");
    if (!r.array(ps, "/probes")) {
      return false;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const std::string p = child("/probes", i);
      Probe probe;
      if (!ps[i].is_object()) {
        return r.fail(p, "expected an object {port, path}");
      }
      if (!r.object(ps[i], p, {"port", "path"}) ||
          !r.integer(ps[i], p, "port", 1, 65535, probe.port) ||
          !r.str(ps[i], p, "path", probe.path)) {
        return false;
      }
      if (!Reader::present(ps[i], "port")) {
        return r.fail(child(p, "port"), "required");
      }
      if (probe.path.empty() || probe.path.front() != '/') {
        return r.fail(child(p, "path"), "expected a path starting with \"/\"");
      }
      out.probes.push_back(std::move(probe));
    }
  }
  if (Reader::present(doc, "authorization")) {
    const Json& a = doc.at("authorization");
    if (!r.object(a, "/authorization", {"rules"})) {
      return false;
    }
    if (Reader::present(a, "rules")) {
      const Json& rules = a.at("rules");
      if (!r.array(rules, "/authorization/rules")) {
        return false;
      }
      for (std::size_t i = 0; i < rules.size(); ++i) {
        AuthzRule rule;
        if (!readRule(r, rules[i], child("/authorization/rules", i), rule)) {
          return false;
        }
        out.authorization.rules.push_back(std::move(rule));
      }
    }
  }
  for (std::size_t i = 0; i < out.trustBundle.size(); ++i) {
    if (out.trustBundle[i].find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return r.fail(child("/trustBundle", i), "expected a PEM certificate");
    }
  }
  return true;
}

Json pathMatchJson(const PathMatch& m) { return {{"type", toString(m.type)}, {"value", m.value}}; }

}  // namespace

Result<Inbound> inboundFromJson(const Json& doc, const ParseOptions& options) {
  std::string name = "Inbound";
  if (doc.is_object() && doc.contains("pod") && doc["pod"].is_string()) {
    name += " " + doc["pod"].get<std::string>().substr(0, 300);
  }
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, name + ": expected an object");
  }
  if (doc.contains("kind") && doc["kind"] != "Inbound") {
    return makeError(ErrorCode::kInvalidArgument, name + ": /kind: expected \"Inbound\"");
  }
  Reader r(options);
  Inbound out;
  if (!readInbound(r, doc, out)) {
    return r.error(name);
  }
  return out;
}

Result<Document> documentFromJson(const Json& doc, const ParseOptions& options) {
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("expected a document object, got ") + doc.type_name());
  }
  auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string()) {
    return makeError(ErrorCode::kInvalidArgument, "/kind: required (Outbound or Inbound)");
  }
  if (*kind == "Outbound") {
    auto out = outboundFromJson(doc, options);
    if (!out) {
      return out.error();
    }
    return Document(std::move(out).value());
  }
  if (*kind == "Inbound") {
    auto in = inboundFromJson(doc, options);
    if (!in) {
      return in.error();
    }
    return Document(std::move(in).value());
  }
  return makeError(ErrorCode::kInvalidArgument, "/kind: expected Outbound or Inbound, got \"" +
                                                    kind->get<std::string>().substr(0, 64) + "\"");
}

Json toJson(const Inbound& doc) {
  Json ports = Json::array();
  for (const auto& p : doc.ports) {
    ports.push_back({{"port", p.port}, {"protocol", toString(p.protocol)}});
  }
  Json probes = Json::array();
  for (const auto& p : doc.probes) {
    probes.push_back({{"port", p.port}, {"path", p.path}});
  }
  Json rules = Json::array();
  for (const auto& rule : doc.authorization.rules) {
    Json paths = Json::array();
    for (const auto& p : rule.paths) {
      paths.push_back(pathMatchJson(p));
    }
    rules.push_back(
        {{"action", toString(rule.action)},
         {"from", {{"identities", rule.from.identities}, {"namespaces", rule.from.namespaces}}},
         {"ports", rule.ports},
         {"methods", rule.methods},
         {"paths", std::move(paths)}});
  }
  Json out = {{"kind", "Inbound"},
              {"version", doc.version},
              {"pod", doc.pod},
              {"identity", doc.identity},
              {"mtls", toString(doc.mtls)},
              {"ports", std::move(ports)},
              {"probes", std::move(probes)},
              {"authorization", {{"rules", std::move(rules)}}},
              {"trustBundle", doc.trustBundle}};
  // Written only when set: the operator renders it for few pods, late in their life.
  if (doc.appContainersTerminated) {
    out["appContainersTerminated"] = true;
  }
  return out;
}

Json toJson(const Document& doc) {
  return std::visit([](const auto& d) { return toJson(d); }, doc);
}

}  // namespace weft::api
