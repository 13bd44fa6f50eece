// Secrets through the Kubernetes API, base64 in and out.
#include "operator/src/identity/secrets.h"

#include "common/kube/kube_api.h"
#include "common/strings.h"

namespace weft::op::identity {
namespace {

namespace res = kube::resources;

json::Json encode(const Data& data) {
  json::Json out = json::Json::object();
  for (const auto& [k, v] : data) {
    out[k] = base64Encode(v);
  }
  return out;
}

}  // namespace

Result<std::optional<Stored>> readSecret(kube::KubeApi& api, const std::string& ns,
                                         const std::string& name) {
  auto obj = api.get(res::secrets(), ns, name);
  if (!obj) {
    if (kube::isNotFound(obj.error())) {
      return std::optional<Stored>();
    }
    return obj.error().context("Secret " + ns + "/" + name);
  }
  Stored s;
  s.object = *obj;
  if (obj->contains("data") && (*obj)["data"].is_object()) {
    for (const auto& [k, v] : (*obj)["data"].items()) {
      auto decoded = v.is_string()
                         ? base64Decode(v.get<std::string>())
                         : Result<std::string>(makeError(ErrorCode::kParse, "not a string"));
      if (!decoded) {
        return makeError(ErrorCode::kInvalidArgument,
                         "Secret " + ns + "/" + name + ": data." + k + " is not base64");
      }
      s.data[k] = std::move(*decoded);
    }
  }
  return std::optional<Stored>(std::move(s));
}

Result<void> writeSecret(kube::KubeApi& api, const std::string& ns, const std::string& name,
                         const Data& data, const std::optional<Stored>& existing) {
  if (existing) {
    json::Json next = existing->object;
    next["data"] = encode(data);
    auto r = api.update(res::secrets(), next);
    return r ? okResult() : Result<void>(r.error().context("update Secret " + ns + "/" + name));
  }
  json::Json obj = {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata",
                     {{"name", name},
                      {"namespace", ns},
                      {"labels", {{"app.kubernetes.io/managed-by", "weft-operator"}}}}},
                    {"type", "kubernetes.io/tls"},
                    {"data", encode(data)}};
  auto r = api.create(res::secrets(), ns, obj);
  return r ? okResult() : Result<void>(r.error().context("create Secret " + ns + "/" + name));
}

std::string joined(const std::vector<std::string>& pems) {
  std::string out;
  for (const auto& p : pems) {
    out += p;
  }
  return out;
}

}  // namespace weft::op::identity
