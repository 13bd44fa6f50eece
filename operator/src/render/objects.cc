// Objects: per-kind maps plus the EndpointSlice-by-Service index.
#include "operator/src/render/objects.h"

#include "common/json/json.h"

namespace weft::op::render {

std::string serviceKeyOfSlice(const nlohmann::json& slice) {
  auto svc = json::getStringOr(slice, "/metadata/labels/kubernetes.io~1service-name", "");
  auto ns = json::getStringOr(slice, "/metadata/namespace", "");
  if (!svc || !ns || svc->empty()) {
    return "";
  }
  return *ns + "/" + *svc;
}

ObjectPtr Objects::upsert(Kind kind, ObjectPtr object) {
  std::string key = source::keyOf(*object);
  auto& slot = byKind_[static_cast<int>(kind)][key];
  ObjectPtr previous = std::move(slot);
  if (kind == Kind::kEndpointSlice) {
    if (previous) {
      std::string old = serviceKeyOfSlice(*previous);
      if (auto it = slicesByService_.find(old); it != slicesByService_.end()) {
        it->second.erase(key);
        if (it->second.empty()) {
          slicesByService_.erase(it);
        }
      }
    }
    std::string svc = serviceKeyOfSlice(*object);
    if (!svc.empty()) {
      slicesByService_[svc][key] = object;
    }
  }
  slot = std::move(object);
  return previous;
}

ObjectPtr Objects::remove(Kind kind, const std::string& key) {
  auto& map = byKind_[static_cast<int>(kind)];
  auto it = map.find(key);
  if (it == map.end()) {
    return nullptr;
  }
  ObjectPtr previous = std::move(it->second);
  map.erase(it);
  if (kind == Kind::kEndpointSlice) {
    std::string svc = serviceKeyOfSlice(*previous);
    if (auto s = slicesByService_.find(svc); s != slicesByService_.end()) {
      s->second.erase(key);
      if (s->second.empty()) {
        slicesByService_.erase(s);
      }
    }
  }
  return previous;
}

ObjectPtr Objects::get(Kind kind, const std::string& key) const {
  const auto& map = byKind_[static_cast<int>(kind)];
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Objects::inNamespace(Kind kind, const std::string& ns) const {
  std::vector<ObjectPtr> out;
  const auto& map = byKind_[static_cast<int>(kind)];
  std::string prefix = ns + "/";
  for (auto it = map.lower_bound(prefix); it != map.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Objects::slicesOf(const std::string& serviceKey) const {
  std::vector<ObjectPtr> out;
  if (auto it = slicesByService_.find(serviceKey); it != slicesByService_.end()) {
    for (const auto& [k, v] : it->second) {
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace weft::op::render
