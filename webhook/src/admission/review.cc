// AdmissionReview decoding and encoding around the pure injector.
#include "webhook/src/admission/review.h"

#include "common/json/json.h"
#include "common/log/log.h"

namespace weft::webhook::admission {
namespace {

using json::Json;

// Kubernetes shows warnings as HTTP Warning headers; keep them short.
constexpr std::size_t kMaxWarning = 256;

Reply plain(int status, std::string result, const std::string& message) {
  return Reply{status, message + "\n", std::move(result)};
}

Json envelope(const std::string& uid) {
  return Json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"response", {{"uid", uid}, {"allowed", true}}}};
}

void addWarnings(Json& review, const std::vector<std::string>& warnings) {
  if (warnings.empty()) {
    return;
  }
  Json list = Json::array();
  for (const auto& w : warnings) {
    list.push_back(w.size() > kMaxWarning ? w.substr(0, kMaxWarning) : w);
  }
  review["response"]["warnings"] = std::move(list);
}

std::string stringAt(const Json& obj, const char* key) {
  if (obj.is_object() && obj.contains(key) && obj[key].is_string()) {
    return obj[key].get<std::string>();
  }
  return "";
}

}  // namespace

Result<std::map<std::string, std::string>> StaticNamespaceLabels::labels(
    const std::string& namespaceName) {
  auto it = table_.find(namespaceName);
  if (it == table_.end()) {
    return std::map<std::string, std::string>{};
  }
  return it->second;
}

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                 static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned v =
        static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

Reply Mutator::review(std::string_view body) const noexcept {
  try {
    return reviewOrThrow(body);
  } catch (const std::exception& e) {
    log::get("injector")->error("admission review failed: {}", e.what());
    return plain(500, "error", std::string("internal error: ") + e.what());
  } catch (...) {
    return plain(500, "error", "internal error");
  }
}

Reply Mutator::reviewOrThrow(std::string_view body) const {
  auto parsed = json::parse(body);
  if (!parsed) {
    return plain(400, "invalid", "the body is not JSON: " + parsed.error().message);
  }
  const Json& in = *parsed;
  if (!in.is_object() || stringAt(in, "kind") != "AdmissionReview" ||
      stringAt(in, "apiVersion") != "admission.k8s.io/v1") {
    return plain(400, "invalid", "expected an admission.k8s.io/v1 AdmissionReview");
  }
  if (!in.contains("request") || !in["request"].is_object()) {
    return plain(400, "invalid", "the AdmissionReview has no request");
  }
  const Json& request = in["request"];
  const std::string uid = stringAt(request, "uid");
  if (uid.empty()) {
    return plain(400, "invalid", "the AdmissionReview request has no uid");
  }
  Json out = envelope(uid);
  auto reply = [&](std::string result) { return Reply{200, json::dump(out), std::move(result)}; };

  // Only pod creation is mutated; everything else the webhook may be sent
  // (updates, deletes, subresources, other kinds) is allowed untouched.
  const Json& resource = request.contains("resource") ? request["resource"] : Json();
  if (stringAt(resource, "resource") != "pods" || stringAt(resource, "group") != "" ||
      !stringAt(request, "subResource").empty() || stringAt(request, "operation") != "CREATE") {
    return reply("ignored");
  }
  if (!request.contains("object") || !request["object"].is_object()) {
    out["response"]["allowed"] = false;
    out["response"]["status"] = {
        {"code", 400}, {"reason", "BadRequest"}, {"message", "weft: the request has no pod"}};
    return reply("refused");
  }
  const Json& pod = request["object"];
  std::string ns = stringAt(request, "namespace");
  if (ns.empty() && pod.contains("metadata")) {
    ns = stringAt(pod["metadata"], "namespace");
  }

  inject::PodContext context;
  context.namespaceName = ns;
  auto labels = labels_.labels(ns);
  if (!labels) {
    return plain(500, "error", "looking up namespace " + ns + ": " + labels.error().message);
  }
  context.namespaceLabels = std::move(*labels);

  std::optional<std::string> anchors;
  inject::Options withAnchors;
  if (trustBundle_ != nullptr) {
    anchors = trustBundle_->current();
    withAnchors = options_;
    withAnchors.trustAnchors = anchors.value_or("");
  }
  auto decision = inject::injectPod(pod, context, trustBundle_ ? withAnchors : options_);
  if (!decision) {
    if (decision.error().code != ErrorCode::kInvalidArgument) {
      return plain(500, "error", decision.error().message);
    }
    out["response"]["allowed"] = false;
    out["response"]["status"] = {
        {"code", 400}, {"reason", "BadRequest"}, {"message", "weft: " + decision.error().message}};
    return reply("refused");
  }
  addWarnings(out, decision->warnings);
  if (decision->outcome == inject::Outcome::kSkipped) {
    return reply("skipped");
  }
  if (trustBundle_ != nullptr && !anchors) {
    return plain(500, "error",
                 "the mesh trust bundle (" + trustBundle_->source() +
                     ") is not loaded yet: an injected proxy could not verify the control plane");
  }
  auto patch = inject::makePatch(pod, decision->pod);
  if (!patch) {
    return plain(500, "error", patch.error().message);
  }
  if (patch->empty()) {
    return reply("unchanged");
  }
  out["response"]["patchType"] = "JSONPatch";
  out["response"]["patch"] = base64Encode(json::dump(*patch));
  return reply("injected");
}

}  // namespace weft::webhook::admission
