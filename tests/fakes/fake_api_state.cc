// FakeApiState: the protocol rules of kube-apiserver as the recorded fixtures
// show them (Status bodies, resourceVersion, pagination, watch, 409/410/422).
#include "tests/fakes/fake_api_state.h"

#include <algorithm>
#include <ctime>

#include "common/strings.h"
#include "tests/fakes/fake_rbac.h"

namespace weft::testing {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

// Continue tokens: URL-safe base64 without padding, like the real server's.
std::string base64UrlEncode(const std::string& in) {
  std::string out = base64Encode(in);
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  return out;
}

// "" for a token that is not base64 (the caller answers 410 or 400).
std::string base64UrlDecode(const std::string& in) {
  auto out = base64Decode(in);
  return out ? *out : std::string();
}

std::string percentDecode(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else if (in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string nowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "pods" for core kinds, "widgets.testbed.example.com" otherwise: how the
// API server names a resource in messages.
std::string qualified(const FakeKind& k) {
  return k.group.empty() ? k.plural : k.plural + "." + k.group;
}

FakeResponse statusResponse(int code, const std::string& reason, const std::string& message,
                            const OJson& details = OJson(),
                            const OJson& metadata = OJson::object()) {
  OJson s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = metadata;
  s["status"] = "Failure";
  s["message"] = message;
  s["reason"] = reason;
  if (!details.is_null()) {
    s["details"] = details;
  }
  s["code"] = code;
  return FakeResponse{code, "application/json", s.dump()};
}

OJson details(const FakeKind& k, const std::string& name, const std::string& kindName = "") {
  OJson d;
  if (!name.empty()) {
    d["name"] = name;
  }
  if (!k.group.empty()) {
    d["group"] = k.group;
  }
  d["kind"] = kindName.empty() ? k.plural : kindName;
  return d;
}

FakeResponse notFound(const FakeKind& k, const std::string& name) {
  return statusResponse(404, "NotFound", qualified(k) + " \"" + name + "\" not found",
                        details(k, name));
}

FakeResponse conflict(const FakeKind& k, const std::string& name) {
  return statusResponse(409, "Conflict",
                        "Operation cannot be fulfilled on " + qualified(k) + " \"" + name +
                            "\": the object has been modified; please apply your changes to the "
                            "latest version and try again",
                        details(k, name));
}

FakeResponse jsonResponse(int code, const Json& body) {
  return FakeResponse{code, "application/json", body.dump()};
}

std::string metaString(const Json& o, const char* field) {
  if (o.is_object() && o.contains("metadata") && o["metadata"].is_object() &&
      o["metadata"].contains(field) && o["metadata"][field].is_string()) {
    return o["metadata"][field].get<std::string>();
  }
  return "";
}

// Basic label selectors: a=b, a==b, a!=b, a, !a (comma = and).
bool parseSelector(const std::string& text,
                   std::vector<std::tuple<std::string, std::string, std::string>>& out) {
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    std::size_t comma = text.find(',', start);
    std::string term =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (term.empty()) {
      return false;
    }
    if (term.find(" in ") != std::string::npos || term.find('(') != std::string::npos) {
      return false;  // set-based selectors are not supported by the fake
    }
    if (auto p = term.find("!="); p != std::string::npos) {
      out.emplace_back(term.substr(0, p), "!=", term.substr(p + 2));
    } else if (auto q = term.find("=="); q != std::string::npos) {
      out.emplace_back(term.substr(0, q), "=", term.substr(q + 2));
    } else if (auto e = term.find('='); e != std::string::npos) {
      out.emplace_back(term.substr(0, e), "=", term.substr(e + 1));
    } else if (term[0] == '!') {
      out.emplace_back(term.substr(1), "!", "");
    } else {
      out.emplace_back(term, "exists", "");
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return true;
}

bool matches(const Json& object, const std::string& selector) {
  if (selector.empty()) {
    return true;
  }
  std::vector<std::tuple<std::string, std::string, std::string>> terms;
  if (!parseSelector(selector, terms)) {
    return false;
  }
  Json labels = Json::object();
  if (object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("labels") && object["metadata"]["labels"].is_object()) {
    labels = object["metadata"]["labels"];
  }
  for (const auto& [key, op, value] : terms) {
    bool has = labels.contains(key) && labels[key].is_string();
    std::string v = has ? labels[key].get<std::string>() : "";
    if ((op == "=" && (!has || v != value)) || (op == "!=" && has && v == value) ||
        (op == "exists" && !has) || (op == "!" && has)) {
      return false;
    }
  }
  return true;
}

// Everything but metadata and status: a change here bumps generation.
Json specPart(Json o) {
  if (o.is_object()) {
    o.erase("metadata");
    o.erase("status");
  }
  return o;
}

std::string eventLine(const std::string& type, const Json& object) {
  Json e = {{"type", type}, {"object", object}};
  return e.dump() + "\n";
}

}  // namespace

FakeApiState::FakeApiState() {
  kinds_ = {
      {"", "v1", "pods", "Pod", true, true},
      {"", "v1", "services", "Service", true, true},
      {"", "v1", "namespaces", "Namespace", false, true},
      {"", "v1", "events", "Event", true, false},
      {"", "v1", "configmaps", "ConfigMap", true, false},
      {"", "v1", "secrets", "Secret", true, false},
      {"", "v1", "endpoints", "Endpoints", true, false},
      {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, false},
      {"apps", "v1", "deployments", "Deployment", true, true},
      {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false,
       true},
      {"coordination.k8s.io", "v1", "leases", "Lease", true, false},
      {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
       "MutatingWebhookConfiguration", false, false},
      {"weft.io", "v1alpha1", "meshes", "Mesh", false, true},
      {"weft.io", "v1alpha1", "trafficpolicies", "TrafficPolicy", true, true},
      {"weft.io", "v1alpha1", "trafficroutes", "TrafficRoute", true, true},
      {"weft.io", "v1alpha1", "accesspolicies", "AccessPolicy", true, true},
      // The fixtures' custom resource, so recorded exchanges can be replayed.
      {"testbed.example.com", "v1", "widgets", "Widget", true, true},
  };
}

bool FakeApiState::isWatchRequest(const FakeRequest& request) {
  if (request.method != "GET") {
    return false;
  }
  auto q = request.target.find('?');
  if (q == std::string::npos) {
    return false;
  }
  std::string query = "&" + request.target.substr(q + 1) + "&";
  return query.find("&watch=1&") != std::string::npos ||
         query.find("&watch=true&") != std::string::npos;
}

bool FakeApiState::parseTarget(const std::string& target, Target& out) const {
  std::string path = target.substr(0, target.find('?'));
  if (auto q = target.find('?'); q != std::string::npos) {
    std::string query = target.substr(q + 1);
    std::size_t start = 0;
    while (start < query.size()) {
      std::size_t amp = query.find('&', start);
      std::string kv =
          query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      auto eq = kv.find('=');
      out.query[percentDecode(kv.substr(0, eq))] =
          eq == std::string::npos ? "" : percentDecode(kv.substr(eq + 1));
      if (amp == std::string::npos) {
        break;
      }
      start = amp + 1;
    }
  }
  std::vector<std::string> segs;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string seg =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!seg.empty()) {
      segs.push_back(percentDecode(seg));
    }
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  std::string group;
  std::size_t i = 0;
  if (segs.size() >= 2 && segs[0] == "api") {
    i = 2;
  } else if (segs.size() >= 3 && segs[0] == "apis") {
    group = segs[1];
    i = 3;
  } else {
    return false;
  }
  std::string version = segs[i - 1];
  auto findKind = [&](const std::string& plural) -> const FakeKind* {
    for (const auto& k : kinds_) {
      if (k.group == group && k.version == version && k.plural == plural) {
        return &k;
      }
    }
    return nullptr;
  };
  std::vector<std::string> rest(segs.begin() + static_cast<long>(i), segs.end());
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    const FakeKind* k = findKind(rest[2]);
    if (k && k->namespaced) {
      out.kind = k;
      out.ns = rest[1];
      out.name = rest.size() > 3 ? rest[3] : "";
      out.subresource = rest.size() > 4 ? rest[4] : "";
      return rest.size() <= 5;
    }
  }
  if (rest.empty() || rest.size() > 3) {
    return false;
  }
  out.kind = findKind(rest[0]);
  out.name = rest.size() > 1 ? rest[1] : "";
  out.subresource = rest.size() > 2 ? rest[2] : "";
  // A namespaced kind by name needs its namespace; listing across all is fine.
  return out.kind != nullptr && (!out.kind->namespaced || out.name.empty());
}

FakeResponse FakeApiState::checkAuthAndInjected(const FakeRequest& request, const Target& t) {
  std::string path = request.target.substr(0, request.target.find('?'));
  requestLog_.emplace_back(request.method, path);
  if (!requiredToken_.empty() && request.authorization != "Bearer " + requiredToken_) {
    return statusResponse(401, "Unauthorized", "Unauthorized");
  }
  if (rbac_) {
    const std::string bearer = "Bearer ";
    auto user = request.authorization.rfind(bearer, 0) == 0
                    ? rbac_->userOf(request.authorization.substr(bearer.size()))
                    : std::nullopt;
    if (!user) {
      return statusResponse(401, "Unauthorized", "Unauthorized");
    }
    RbacRequest asked = rbacRequestOf(request.method, request.target);
    asked.user = *user;
    if (!rbac_->authorize(asked)) {
      return FakeResponse{403, "application/json", FakeRbac::forbiddenBody(asked)};
    }
  }
  for (auto it = injected_.begin(); it != injected_.end(); ++it) {
    if (path.rfind(it->first, 0) != 0 || it->second.times == 0 ||
        (!it->second.method.empty() && it->second.method != request.method)) {
      continue;
    }
    // "/api/v1/namespaces" is a prefix of every namespaced path: when the
    // prefix names a resource, only that resource matches.
    Target prefixTarget;
    if (parseTarget(it->first, prefixTarget) && prefixTarget.kind != t.kind) {
      continue;
    }
    if (it->second.times > 0) {
      --it->second.times;
    }
    int code = it->second.code;
    if (code == 403 && t.kind) {
      std::string verb =
          request.method == "GET"
              ? (isWatchRequest(request) ? "watch" : (t.name.empty() ? "list" : "get"))
          : request.method == "POST"  ? "create"
          : request.method == "PUT"   ? "update"
          : request.method == "PATCH" ? "patch"
                                      : "delete";
      std::string msg =
          qualified(*t.kind) +
          " is forbidden: User \"system:serviceaccount:weft:weft-operator\" cannot " + verb +
          " resource \"" + t.kind->plural + "\" in API group \"" + t.kind->group + "\"" +
          (t.ns.empty() ? " at the cluster scope" : " in the namespace \"" + t.ns + "\"");
      return statusResponse(403, "Forbidden", msg, details(*t.kind, t.name));
    }
    if (code == 410) {
      return statusResponse(410, "Expired",
                            "The resourceVersion for the provided list is too old.");
    }
    return statusResponse(code, code >= 500 ? "InternalError" : "BadRequest",
                          "Internal error occurred: injected failure");
  }
  return FakeResponse{0, "", ""};
}

FakeResponse FakeApiState::handle(const FakeRequest& request) {
  Target t;
  bool known = parseTarget(request.target, t);
  std::lock_guard lock(mu_);
  if (auto denied = checkAuthAndInjected(request, t); denied.status != 0) {
    return denied;
  }
  if (request.target.substr(0, request.target.find('?')) == "/version") {
    return request.method == "GET"
               ? versionResponse()
               : FakeResponse{405, "text/plain; charset=utf-8", "405: Method Not Allowed\n"};
  }
  if (auto answer = discovery(request.target.substr(0, request.target.find('?')))) {
    return request.method == "GET"
               ? *answer
               : FakeResponse{405, "text/plain; charset=utf-8", "405: Method Not Allowed\n"};
  }
  if (request.target.substr(0, request.target.find('?')) ==
      "/apis/authentication.k8s.io/v1/tokenreviews") {
    return request.method == "POST"
               ? tokenReview(request)
               : statusResponse(405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource");
  }
  if (!known) {
    return FakeResponse{404, "text/plain; charset=utf-8", "404 page not found\n"};
  }
  if (!t.subresource.empty() && (t.subresource != "status" || !t.kind->hasStatus)) {
    return FakeResponse{404, "text/plain; charset=utf-8", "404 page not found\n"};
  }
  if (request.method == "GET") {
    return t.name.empty() ? list(t) : get(t);
  }
  if (request.method == "POST" && t.name.empty()) {
    return create(t, request);
  }
  if (request.method == "PUT" && !t.name.empty()) {
    return update(t, request);
  }
  if (request.method == "PATCH" && !t.name.empty()) {
    return patch(t, request);
  }
  if (request.method == "DELETE" && !t.name.empty()) {
    if (!t.subresource.empty()) {
      return statusResponse(
          405, "MethodNotAllowed",
          "delete is not supported on resources of kind \"" + qualified(*t.kind) + "\"",
          details(*t.kind, ""));
    }
    return remove(t);
  }
  return statusResponse(405, "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                        details(*t.kind, t.name));
}

// Legacy (unaggregated) discovery, shaped like discovery-api.json,
// discovery-apis.json and discovery-widgets-group-version.json; clients that
// ask for aggregated discovery fall back to it.
std::optional<FakeResponse> FakeApiState::discovery(const std::string& path) const {
  if (path == "/api") {
    OJson body;
    body["kind"] = "APIVersions";
    body["versions"] = {"v1"};
    body["serverAddressByClientCIDRs"] = {
        {{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}};
    return FakeResponse{200, "application/json", body.dump()};
  }
  if (path == "/apis") {
    OJson groups = OJson::array();
    std::vector<std::string> seen;
    for (const auto& k : kinds_) {
      std::string gv = k.group + "/" + k.version;
      if (k.group.empty() || std::find(seen.begin(), seen.end(), gv) != seen.end()) {
        continue;
      }
      seen.push_back(gv);
      OJson version;
      version["groupVersion"] = gv;
      version["version"] = k.version;
      OJson group;
      group["name"] = k.group;
      group["versions"] = OJson::array({version});
      group["preferredVersion"] = version;
      groups.push_back(group);
    }
    OJson body;
    body["kind"] = "APIGroupList";
    body["apiVersion"] = "v1";
    body["groups"] = groups;
    return FakeResponse{200, "application/json", body.dump()};
  }
  std::string gv;
  if (path.rfind("/api/", 0) == 0 && path.find('/', 5) == std::string::npos) {
    gv = path.substr(5);
  } else if (path.rfind("/apis/", 0) == 0 && std::count(path.begin(), path.end(), '/') == 3) {
    gv = path.substr(6);
  } else {
    return std::nullopt;
  }
  OJson resources = OJson::array();
  for (const auto& k : kinds_) {
    if ((k.group.empty() ? k.version : k.group + "/" + k.version) != gv) {
      continue;
    }
    std::string singular = k.kind;
    std::transform(singular.begin(), singular.end(), singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    OJson r;
    r["name"] = k.plural;
    r["singularName"] = singular;
    r["namespaced"] = k.namespaced;
    r["kind"] = k.kind;
    r["verbs"] = {"delete", "deletecollection", "get",    "list",
                  "patch",  "create",           "update", "watch"};
    resources.push_back(r);
    if (k.hasStatus) {
      OJson st;
      st["name"] = k.plural + "/status";
      st["singularName"] = "";
      st["namespaced"] = k.namespaced;
      st["kind"] = k.kind;
      st["verbs"] = {"get", "patch", "update"};
      resources.push_back(st);
    }
  }
  if (resources.empty()) {
    return std::nullopt;  // 404 like any unknown path
  }
  OJson body;
  body["kind"] = "APIResourceList";
  body["apiVersion"] = "v1";
  body["groupVersion"] = gv;
  body["resources"] = resources;
  return FakeResponse{200, "application/json", body.dump()};
}

// kube-apiserver's answer: the review echoed with a status; 201 whether or
// not the token authenticated (the status says which).
FakeResponse FakeApiState::tokenReview(const FakeRequest& r) {
  auto body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("spec") ||
      !body["spec"].is_object() || !body["spec"].contains("token") ||
      !body["spec"]["token"].is_string()) {
    return statusResponse(400, "BadRequest",
                          "the object provided is unrecognized (must be of type TokenReview)");
  }
  const Json& spec = body["spec"];
  std::vector<std::string> wanted;
  if (spec.contains("audiences") && spec["audiences"].is_array()) {
    for (const auto& a : spec["audiences"]) {
      if (a.is_string()) {
        wanted.push_back(a.get<std::string>());
      }
    }
  }
  OJson status;
  auto it = tokens_.find(spec["token"].get<std::string>());
  std::vector<std::string> granted;
  if (it != tokens_.end()) {
    for (const auto& a : it->second.audiences) {
      if (wanted.empty() || std::find(wanted.begin(), wanted.end(), a) != wanted.end()) {
        granted.push_back(a);
      }
    }
  }
  if (it == tokens_.end()) {
    status["user"] = OJson::object();
    status["error"] = "[invalid bearer token, square/go-jose: error in cryptographic primitive]";
  } else if (granted.empty()) {
    status["user"] = OJson::object();
    status["error"] = "[invalid bearer token, token audiences " +
                      Json(it->second.audiences).dump() + " is invalid for the target audiences " +
                      Json(wanted).dump() + "]";
  } else {
    std::string user = it->second.username;
    OJson groups = OJson::array({"system:authenticated"});
    if (user.rfind("system:serviceaccount:", 0) == 0) {
      std::string ns = user.substr(22, user.find(':', 22) - 22);
      groups = OJson::array(
          {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"});
    }
    status["authenticated"] = true;
    status["user"] = {
        {"username", user}, {"uid", "00000000-0000-4000-9000-000000000001"}, {"groups", groups}};
    status["audiences"] = granted;
  }
  OJson out;
  out["kind"] = "TokenReview";
  out["apiVersion"] = "authentication.k8s.io/v1";
  out["metadata"] = {{"creationTimestamp", nullptr}};
  out["spec"] = OJson::parse(spec.dump());
  out["status"] = status;
  return FakeResponse{201, "application/json", out.dump()};
}

void FakeApiState::addToken(const std::string& token, const std::string& username,
                            std::vector<std::string> audiences) {
  std::lock_guard lock(mu_);
  tokens_[token] = TokenInfo{username, std::move(audiences)};
}

// The shape of tests/fixtures/k8s/version.json; minor carries a "+" when the
// gitVersion has a suffix, as on managed clusters ("29+" for v1.29.3-eks-1).
FakeResponse FakeApiState::versionResponse() const {
  std::string v = gitVersion_.substr(gitVersion_.front() == 'v' ? 1 : 0);
  auto dot = v.find('.');
  std::string major = v.substr(0, dot);
  std::string rest = dot == std::string::npos ? "" : v.substr(dot + 1);
  std::string minor = rest.substr(0, rest.find('.'));
  if (gitVersion_.find('-') != std::string::npos) {
    minor += "+";
  }
  OJson body = {{"major", major},
                {"minor", minor},
                {"gitVersion", gitVersion_},
                {"gitCommit", "8f94681cd294aa8cfd3407b8191f6c70214973a4"},
                {"gitTreeState", "archive"},
                {"buildDate", "2026-11-28T22:55:59Z"},
                {"goVersion", "go1.19.8"},
                {"compiler", "gc"},
                {"platform", "linux/amd64"}};
  return FakeResponse{200, "application/json", body.dump(2)};
}

void FakeApiState::setServerVersion(const std::string& gitVersion) {
  std::lock_guard lock(mu_);
  gitVersion_ = gitVersion;
}

std::map<std::string, Json>& FakeApiState::bucket(const FakeKind* kind) {
  return objects_[kind->group + "/" + kind->plural];
}

FakeResponse FakeApiState::get(const Target& t) {
  auto& b = bucket(t.kind);
  auto it = b.find(t.ns + "/" + t.name);
  if (it == b.end()) {
    return notFound(*t.kind, t.name);
  }
  return jsonResponse(200, it->second);
}

FakeResponse FakeApiState::list(const Target& t) {
  std::string selector = t.query.count("labelSelector") ? t.query.at("labelSelector") : "";
  std::vector<std::tuple<std::string, std::string, std::string>> terms;
  if (!selector.empty() && !parseSelector(selector, terms)) {
    return statusResponse(400, "BadRequest",
                          "unable to parse requirement: found '" + selector +
                              "', expected: !, identifier, or 'end of string'");
  }
  std::int64_t limit = 0;
  if (t.query.count("limit")) {
    limit = std::atoll(t.query.at("limit").c_str());
  }
  std::int64_t listRv = rv_;
  std::string startAfter;
  if (t.query.count("continue") && !t.query.at("continue").empty()) {
    auto token = Json::parse(base64UrlDecode(t.query.at("continue")), nullptr, false);
    if (token.is_discarded() || !token.is_object() || !token["rv"].is_number_integer() ||
        !token["start"].is_string()) {
      return statusResponse(400, "BadRequest", "continue key is not valid: illegal base64 data");
    }
    listRv = token["rv"].get<std::int64_t>();
    if (listRv < compactedRv_) {
      OJson newToken;
      newToken["v"] = "meta.k8s.io/v1";
      newToken["rv"] = -1;
      newToken["start"] = token["start"].get<std::string>();
      OJson meta;
      meta["continue"] = base64UrlEncode(newToken.dump());
      return statusResponse(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue token in this "
          "response to retrieve the remainder of the results. Continuing with the provided token "
          "results in an inconsistent list - objects that were created, modified, or deleted "
          "between the time the first chunk was returned and now may show up in the list.",
          OJson(), meta);
    }
    startAfter = token["start"].get<std::string>();
  }
  if (t.query.count("resourceVersionMatch") && t.query.at("resourceVersionMatch") == "Exact" &&
      t.query.count("resourceVersion") &&
      std::atoll(t.query.at("resourceVersion").c_str()) < compactedRv_) {
    return statusResponse(410, "Expired", "The resourceVersion for the provided list is too old.");
  }
  Json items = Json::array();
  std::int64_t remaining = 0;
  std::string lastKey;
  for (const auto& [key, object] : bucket(t.kind)) {
    std::string nsOf = key.substr(0, key.find('/'));
    if (!t.ns.empty() && nsOf != t.ns) {
      continue;
    }
    // Page positions are names within one namespace, keys across all.
    std::string position = t.ns.empty() ? key : key.substr(key.find('/') + 1);
    if (!startAfter.empty() && position + std::string(1, '\0') <= startAfter) {
      continue;
    }
    if (!matches(object, selector)) {
      continue;
    }
    if (limit > 0 && static_cast<std::int64_t>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(object);
    lastKey = position;
  }
  Json meta = {{"resourceVersion", std::to_string(listRv)}};
  if (remaining > 0) {
    OJson token;
    token["v"] = "meta.k8s.io/v1";
    token["rv"] = listRv;
    token["start"] = lastKey + std::string(1, '\0');
    meta["continue"] = base64UrlEncode(token.dump());
    meta["remainingItemCount"] = remaining;
  } else if (!t.kind->group.empty() && t.kind->group != "discovery.k8s.io" &&
             t.kind->group != "coordination.k8s.io") {
    meta["continue"] = "";  // custom resources send an empty token on the last page
  }
  Json body = {{"apiVersion",
                t.kind->group.empty() ? t.kind->version : t.kind->group + "/" + t.kind->version},
               {"kind", t.kind->kind + "List"},
               {"metadata", meta},
               {"items", items}};
  return jsonResponse(200, body);
}

void FakeApiState::record(const FakeKind* kind, const std::string& ns, const std::string& type,
                          const Json& object, const Json& previous) {
  history_.push_back(HistoryEvent{rv_, kind, ns, type, object, previous});
  cv_.notify_all();
}

FakeResponse FakeApiState::create(const Target& t, const FakeRequest& r) {
  if (!t.subresource.empty()) {
    return statusResponse(405, "MethodNotAllowed",
                          "create is not supported on the status subresource");
  }
  auto body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return statusResponse(400, "BadRequest",
                          "the object provided is unrecognized (must be of type " + t.kind->kind +
                              "): couldn't get version/kind; json parse error");
  }
  if (!body.contains("metadata") || !body["metadata"].is_object()) {
    body["metadata"] = Json::object();
  }
  auto& meta = body["metadata"];
  std::string name = metaString(body, "name");
  if (name.empty() && !metaString(body, "generateName").empty()) {
    name = metaString(body, "generateName") + std::to_string(10000 + uidCounter_);
  }
  std::string kindName = t.kind->group.empty() ? t.kind->kind : t.kind->kind + "." + t.kind->group;
  if (name.empty()) {
    OJson d;
    if (!t.kind->group.empty()) {
      d["group"] = t.kind->group;
    }
    d["kind"] = t.kind->kind;
    d["causes"] =
        OJson::array({OJson{{"reason", "FieldValueRequired"},
                            {"message", "Required value: name or generateName is required"},
                            {"field", "metadata.name"}}});
    return statusResponse(422, "Invalid",
                          kindName +
                              " \"\" is invalid: metadata.name: Required value: name or "
                              "generateName is required",
                          d);
  }
  if (!metaString(body, "namespace").empty() && metaString(body, "namespace") != t.ns) {
    return statusResponse(400, "BadRequest",
                          "the namespace of the provided object does not match the namespace sent "
                          "on the request");
  }
  auto& b = bucket(t.kind);
  std::string key = t.ns + "/" + name;
  if (b.count(key)) {
    return statusResponse(409, "AlreadyExists",
                          qualified(*t.kind) + " \"" + name + "\" already exists",
                          details(*t.kind, name));
  }
  ++rv_;
  ++uidCounter_;
  char uid[40];
  std::snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012llu",
                static_cast<unsigned long long>(uidCounter_));
  meta["name"] = name;
  if (t.kind->namespaced) {
    meta["namespace"] = t.ns;
  }
  meta["uid"] = uid;
  meta["resourceVersion"] = std::to_string(rv_);
  meta["creationTimestamp"] = nowRfc3339();
  if (!t.kind->group.empty() || t.kind->hasStatus) {
    meta["generation"] = 1;
  }
  body["apiVersion"] =
      t.kind->group.empty() ? t.kind->version : t.kind->group + "/" + t.kind->version;
  body["kind"] = t.kind->kind;
  b[key] = body;
  record(t.kind, t.ns, "ADDED", body);
  return jsonResponse(201, body);
}

FakeResponse FakeApiState::write(const Target& t, const Json& old, Json next) {
  if (!next.is_object()) {
    return statusResponse(400, "BadRequest", "the object provided is not a JSON object");
  }
  std::string sentRv = metaString(next, "resourceVersion");
  if (!sentRv.empty() && sentRv != metaString(old, "resourceVersion")) {
    return conflict(*t.kind, t.name);
  }
  if (t.subresource == "status") {
    // /status writes status only and never bumps generation.
    Json status = next.contains("status") ? next["status"] : Json();
    next = old;
    if (status.is_null()) {
      next.erase("status");
    } else {
      next["status"] = status;
    }
  } else {
    if (t.kind->hasStatus) {
      if (old.contains("status")) {
        next["status"] = old["status"];
      } else {
        next.erase("status");
      }
    }
    // Identity fields are the server's.
    Json meta = next.contains("metadata") && next["metadata"].is_object() ? next["metadata"]
                                                                          : Json::object();
    for (const char* f : {"name", "namespace", "uid", "creationTimestamp", "generation"}) {
      if (old["metadata"].contains(f)) {
        meta[f] = old["metadata"][f];
      } else {
        meta.erase(f);
      }
    }
    next["metadata"] = meta;
    next["apiVersion"] = old["apiVersion"];
    next["kind"] = old["kind"];
    if (specPart(next) != specPart(old) && old["metadata"].contains("generation")) {
      next["metadata"]["generation"] = old["metadata"]["generation"].get<std::int64_t>() + 1;
    }
  }
  ++rv_;
  next["metadata"]["resourceVersion"] = std::to_string(rv_);
  Json previous = old;  // `old` is the stored object, about to be replaced
  bucket(t.kind)[t.ns + "/" + t.name] = next;
  record(t.kind, t.ns, "MODIFIED", next, previous);
  return jsonResponse(200, next);
}

FakeResponse FakeApiState::update(const Target& t, const FakeRequest& r) {
  auto body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return statusResponse(400, "BadRequest",
                          "the object provided is unrecognized (must be of type " + t.kind->kind +
                              "): couldn't get version/kind; json parse error");
  }
  if (metaString(body, "name") != t.name) {
    return statusResponse(400, "BadRequest",
                          "the name of the object (" + metaString(body, "name") +
                              ") does not match the name on the URL (" + t.name + ")");
  }
  auto& b = bucket(t.kind);
  auto it = b.find(t.ns + "/" + t.name);
  if (it == b.end()) {
    return notFound(*t.kind, t.name);
  }
  return write(t, it->second, std::move(body));
}

FakeResponse FakeApiState::patch(const Target& t, const FakeRequest& r) {
  std::string type = r.contentType.substr(0, r.contentType.find(';'));
  bool core = t.kind->group.empty() || t.kind->group == "discovery.k8s.io" ||
              t.kind->group == "coordination.k8s.io";
  if (type != "application/merge-patch+json" && type != "application/json-patch+json" &&
      !(core && type == "application/strategic-merge-patch+json")) {
    return statusResponse(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
  }
  auto& b = bucket(t.kind);
  auto it = b.find(t.ns + "/" + t.name);
  if (it == b.end()) {
    return notFound(*t.kind, t.name);
  }
  auto body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    return statusResponse(400, "BadRequest", "error decoding patch: invalid JSON");
  }
  Json next = it->second;
  if (type == "application/json-patch+json") {
    if (!body.is_array()) {
      return statusResponse(400, "BadRequest",
                            "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    }
    try {
      next = next.patch(body);
    } catch (const std::exception& e) {
      return statusResponse(
          422, "Invalid",
          std::string("the server rejected our request due to an error in our request: ") +
              e.what());
    }
  } else {
    // Strategic merge is treated as a JSON merge patch (lists replaced).
    next.merge_patch(body);
  }
  return write(t, it->second, std::move(next));
}

FakeResponse FakeApiState::remove(const Target& t) {
  auto& b = bucket(t.kind);
  auto it = b.find(t.ns + "/" + t.name);
  if (it == b.end()) {
    return notFound(*t.kind, t.name);
  }
  Json object = it->second;
  b.erase(it);
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  record(t.kind, t.ns, "DELETED", object);
  bool custom = !t.kind->group.empty() && t.kind->group != "discovery.k8s.io" &&
                t.kind->group != "coordination.k8s.io";
  if (!custom) {
    return jsonResponse(200, object);  // built-in kinds answer with the object
  }
  OJson d = details(*t.kind, t.name);
  d["uid"] = metaString(object, "uid");
  OJson s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = OJson::object();
  s["status"] = "Success";
  s["details"] = d;
  return FakeResponse{200, "application/json", s.dump()};
}

FakeResponse FakeApiState::startWatch(const FakeRequest& request, Watch& watch,
                                      std::vector<std::string>& lines, bool& ended) {
  ended = false;
  Target t;
  bool known = parseTarget(request.target, t);
  std::lock_guard lock(mu_);
  if (auto denied = checkAuthAndInjected(request, t); denied.status != 0) {
    return denied;
  }
  if (!known || !t.name.empty()) {
    return FakeResponse{404, "text/plain; charset=utf-8", "404 page not found\n"};
  }
  watch.kind = t.kind;
  watch.ns = t.ns;
  watch.labelSelector = t.query.count("labelSelector") ? t.query.at("labelSelector") : "";
  watch.bookmarks =
      t.query.count("allowWatchBookmarks") && t.query.at("allowWatchBookmarks") == "true";
  // Without timeoutSeconds the real server picks 30-60 minutes.
  int timeout =
      t.query.count("timeoutSeconds") ? std::atoi(t.query.at("timeoutSeconds").c_str()) : 1800;
  watch.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(timeout, 0));
  watch.dropGeneration = dropGeneration_;
  std::string rv = t.query.count("resourceVersion") ? t.query.at("resourceVersion") : "";
  if (rv.empty() || rv == "0") {
    for (const auto& [key, object] : bucket(t.kind)) {
      if ((t.ns.empty() || key.substr(0, key.find('/')) == t.ns) &&
          matches(object, watch.labelSelector)) {
        lines.push_back(eventLine("ADDED", object));
      }
    }
    watch.cursor = rv_;
    return FakeResponse{200, "application/json", ""};
  }
  std::int64_t from = std::atoll(rv.c_str());
  if (from < compactedRv_) {
    OJson status;
    status["kind"] = "Status";
    status["apiVersion"] = "v1";
    status["metadata"] = OJson::object();
    status["status"] = "Failure";
    status["message"] =
        "too old resource version: " + rv + " (" + std::to_string(compactedRv_) + ")";
    status["reason"] = "Expired";
    status["code"] = 410;
    OJson e;
    e["type"] = "ERROR";
    e["object"] = status;
    lines.push_back(e.dump() + "\n");
    ended = true;
    return FakeResponse{200, "application/json", ""};
  }
  watch.cursor = from;
  return FakeResponse{200, "application/json", ""};
}

std::string FakeApiState::bookmarkLine(Watch& watch) {
  Json object = {
      {"apiVersion", watch.kind->group.empty() ? watch.kind->version
                                               : watch.kind->group + "/" + watch.kind->version},
      {"kind", watch.kind->kind},
      {"metadata", {{"resourceVersion", std::to_string(watch.cursor)}}}};
  return eventLine("BOOKMARK", object);
}

FakeApiState::WaitResult FakeApiState::nextLines(Watch& watch, std::vector<std::string>& lines,
                                                 std::chrono::milliseconds bookmarkInterval) {
  std::unique_lock lock(mu_);
  auto bookmarkAt = std::chrono::steady_clock::now() + bookmarkInterval;
  for (;;) {
    if (stopped_) {
      return WaitResult::kStopped;
    }
    if (watch.dropGeneration != dropGeneration_) {
      return WaitResult::kDropped;
    }
    if (watch.cursor < compactedRv_) {
      // History this watch still needed is gone: like the real cache, end it.
      OJson status;
      status["kind"] = "Status";
      status["apiVersion"] = "v1";
      status["metadata"] = OJson::object();
      status["status"] = "Failure";
      status["message"] = "too old resource version: " + std::to_string(watch.cursor) + " (" +
                          std::to_string(compactedRv_) + ")";
      status["reason"] = "Expired";
      status["code"] = 410;
      OJson e;
      e["type"] = "ERROR";
      e["object"] = status;
      lines.push_back(e.dump() + "\n");
      return WaitResult::kTimeout;
    }
    for (const auto& e : history_) {
      if (e.rv <= watch.cursor || e.kind != watch.kind || (!watch.ns.empty() && e.ns != watch.ns)) {
        continue;
      }
      bool now = matches(e.object, watch.labelSelector);
      if (e.type == "MODIFIED" && !watch.labelSelector.empty()) {
        // Like the real watch cache: entering the selection is an ADDED,
        // leaving it a DELETED.
        bool before = matches(e.previous, watch.labelSelector);
        if (now || before) {
          lines.push_back(
              eventLine(now && before ? "MODIFIED" : (now ? "ADDED" : "DELETED"), e.object));
        }
        continue;
      }
      if (now) {
        lines.push_back(eventLine(e.type, e.object));
      }
    }
    if (rv_ > watch.cursor) {
      watch.cursor = rv_;
    }
    if (!lines.empty()) {
      return WaitResult::kLines;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= watch.deadline) {
      if (watch.bookmarks) {
        lines.push_back(bookmarkLine(watch));
      }
      return WaitResult::kTimeout;
    }
    if (watch.bookmarks && now >= bookmarkAt) {
      lines.push_back(bookmarkLine(watch));
      return WaitResult::kLines;
    }
    auto until = watch.bookmarks ? std::min(watch.deadline, bookmarkAt) : watch.deadline;
    cv_.wait_until(lock, until);
  }
}

void FakeApiState::dropWatches() {
  std::lock_guard lock(mu_);
  ++dropGeneration_;
  cv_.notify_all();
}

void FakeApiState::compact() {
  std::lock_guard lock(mu_);
  // Like a compaction followed by one more write: every RV handed out so far
  // is too old, while a fresh list gets one that is not.
  compactedRv_ = ++rv_;
  history_.clear();
  cv_.notify_all();
}

void FakeApiState::injectError(const std::string& pathPrefix, int code, int times,
                               const std::string& method) {
  std::lock_guard lock(mu_);
  injected_[pathPrefix] = Injected{code, times, method};
}

void FakeApiState::clearInjectedErrors() {
  std::lock_guard lock(mu_);
  injected_.clear();
}

void FakeApiState::setRequiredToken(const std::string& token) {
  std::lock_guard lock(mu_);
  requiredToken_ = token;
}

void FakeApiState::setRbac(std::shared_ptr<FakeRbac> rbac) {
  std::lock_guard lock(mu_);
  rbac_ = std::move(rbac);
}

void FakeApiState::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

std::int64_t FakeApiState::resourceVersion() {
  std::lock_guard lock(mu_);
  return rv_;
}

std::size_t FakeApiState::requestCount(const std::string& method, const std::string& pathPrefix) {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(requestLog_.begin(), requestLog_.end(), [&](const auto& entry) {
        return (method.empty() || entry.first == method) && entry.second.rfind(pathPrefix, 0) == 0;
      }));
}

}  // namespace weft::testing
