// Reconciler: dirty tracking, rendering, publishing and status writes.
#include "operator/src/reconcile/reconciler.h"

#include "common/json/json.h"
#include "common/log/log.h"
#include "operator/src/render/documents.h"

namespace weft::op::reconcile {

using json::Json;

namespace {

constexpr std::size_t kPodsDeferred = 256;

std::string nsOf(const std::string& key) { return key.substr(0, key.find('/')); }
std::string nameOf(const std::string& key) { return key.substr(key.find('/') + 1); }

std::string str(const Json& obj, const char* pointer) {
  auto v = json::getStringOr(obj, pointer, "");
  return v ? *v : std::string();
}

}  // namespace

Reconciler::Reconciler(discovery::DocumentTable& table, status::StatusWriter& writer,
                       status::Clock clock)
    : table_(table), writer_(writer), clock_(std::move(clock)) {
  mesh_.policy = render::resolveMesh(objects_, meshVerdicts_).policy;
  table_.setInboundFallback(
      [this](const std::string& podKey) { return render::emptyInbound(podKey, mesh_); });
}

Reconciler::~Reconciler() { table_.setInboundFallback(nullptr); }

void Reconciler::upsert(Kind kind, ObjectPtr object) {
  if (!object || !object->is_object()) {
    return;
  }
  ObjectPtr previous = objects_.upsert(kind, object);
  if (previous) {
    touch(kind, *previous);
  }
  touch(kind, *object);
}

void Reconciler::remove(Kind kind, const std::string& key) {
  ObjectPtr previous = objects_.remove(kind, key);
  if (previous) {
    touch(kind, *previous);
  }
}

void Reconciler::replace(Kind kind, std::vector<ObjectPtr> objects) {
  std::set<std::string> keep;
  for (const auto& o : objects) {
    if (o && o->is_object()) {
      keep.insert(source::keyOf(*o));
    }
  }
  std::vector<std::string> gone;
  for (const auto& [key, obj] : objects_.all(kind)) {
    if (!keep.contains(key)) {
      gone.push_back(key);
    }
  }
  for (const auto& key : gone) {
    remove(kind, key);
  }
  for (auto& o : objects) {
    upsert(kind, std::move(o));
  }
}

void Reconciler::markAll() { all_ = true; }

bool Reconciler::pending() const {
  return all_ || !dirtyNamespaces_.empty() || !dirtyServices_.empty() || !dirtyPods_.empty();
}

void Reconciler::markServicesOfPod(const std::string& ns, const std::string& name) {
  for (const ObjectPtr& slice : objects_.inNamespace(Kind::kEndpointSlice, ns)) {
    auto eps = slice->find("endpoints");
    if (eps == slice->end() || !eps->is_array()) {
      continue;
    }
    for (const Json& ep : *eps) {
      auto ref = ep.find("targetRef");
      if (ref == ep.end() || !ref->is_object() || ref->value("name", Json()) != name ||
          ref->value("kind", Json()) != "Pod") {
        continue;
      }
      std::string svc = render::serviceKeyOfSlice(*slice);
      if (!svc.empty()) {
        dirtyServices_.insert(svc);
        markRouteParents(ns, nameOf(svc));
      }
      break;
    }
  }
}

// Services whose TrafficRoute sends traffic to `backend` carry its endpoints too.
void Reconciler::markRouteParents(const std::string& ns, const std::string& backend) {
  for (const ObjectPtr& route : objects_.inNamespace(Kind::kTrafficRoute, ns)) {
    std::string text = json::dump(route->value("spec", Json::object()));
    if (text.find("\"name\":\"" + backend + "\"") == std::string::npos) {
      continue;  // cheap filter; parents are re-rendered whole below
    }
    auto parents = json::getArray(*route, "/spec/parentRefs");
    if (!parents) {
      continue;
    }
    for (const Json& p : *parents) {
      if (p.is_object() && p.value("name", Json()).is_string()) {
        dirtyServices_.insert(ns + "/" + p["name"].get<std::string>());
      }
    }
  }
}

void Reconciler::touch(Kind kind, const Json& object) {
  if (all_) {
    return;  // the next pass looks at everything anyway (first sync, Mesh change, resync)
  }
  std::string key = source::keyOf(object);
  std::string ns = nsOf(key);
  switch (kind) {
    case Kind::kMesh:
      all_ = true;
      break;
    case Kind::kNamespace:
      break;  // nothing rendered depends on the Namespace object itself yet
    case Kind::kService:
      dirtyServices_.insert(key);
      dirtyNamespaces_.insert(ns);
      markRouteParents(ns, nameOf(key));
      if (!objects_.inNamespace(Kind::kAccessPolicy, ns).empty()) {
        for (const ObjectPtr& pod : objects_.inNamespace(Kind::kPod, ns)) {
          dirtyPods_.insert(source::keyOf(*pod));
        }
      }
      break;
    case Kind::kEndpointSlice: {
      std::string svc = render::serviceKeyOfSlice(object);
      if (!svc.empty()) {
        dirtyServices_.insert(svc);
        markRouteParents(ns, nameOf(svc));
      }
      break;
    }
    case Kind::kPod:
      dirtyPods_.insert(key);
      markServicesOfPod(ns, nameOf(key));
      break;
    case Kind::kTrafficPolicy:
    case Kind::kTrafficRoute:
      dirtyNamespaces_.insert(ns);
      for (const ObjectPtr& svc : objects_.inNamespace(Kind::kService, ns)) {
        dirtyServices_.insert(source::keyOf(*svc));
      }
      break;
    case Kind::kAccessPolicy:
      dirtyNamespaces_.insert(ns);
      for (const ObjectPtr& pod : objects_.inNamespace(Kind::kPod, ns)) {
        dirtyPods_.insert(source::keyOf(*pod));
      }
      break;
  }
}

void Reconciler::writeVerdicts(const std::vector<render::Verdict>& verdicts,
                               std::set<std::pair<int, std::string>>& seen, PassStats& stats) {
  std::string now = status::rfc3339(clock_());
  for (const auto& v : verdicts) {
    std::pair<int, std::string> id{static_cast<int>(v.kind), v.key};
    seen.insert(id);
    Json existing;
    if (auto it = conditions_.find(id); it != conditions_.end()) {
      existing = it->second;
    } else if (ObjectPtr obj = objects_.get(v.kind, v.key)) {
      auto c = json::getArray(*obj, "/status/conditions");
      if (c) {
        existing = *c;
      }
    }
    Json merged = status::mergeConditions(existing, v.conditions, v.generation, now);
    if (merged == existing) {
      conditions_[id] = std::move(merged);
      continue;
    }
    for (const auto& c : v.conditions) {
      if (c.status != "False") {
        continue;
      }
      bool reported = false;
      if (existing.is_array()) {
        for (const Json& e : existing) {
          reported = reported ||
                     (e.value("type", "") == c.type && e.value("status", "") == "False" &&
                      e.value("reason", "") == c.reason && e.value("message", "") == c.message);
        }
      }
      if (!reported) {
        writer_.recordEvent({v.kind, v.key, "Warning", c.reason, c.type + ": " + c.message});
        ++stats.events;
      }
    }
    writer_.writeStatus(v.kind, v.key, Json{{"conditions", merged}});
    ++stats.statusWrites;
    conditions_[id] = std::move(merged);
  }
}

void Reconciler::renderService(const std::string& key, PassStats& stats) {
  std::vector<std::string> now;
  if (ObjectPtr svc = objects_.get(Kind::kService, key)) {
    ++stats.servicesRendered;
    std::string ns = nsOf(key);
    auto view = views_.find(ns);
    if (view == views_.end()) {
      view = views_.emplace(ns, render::resolveNamespace(objects_, mesh_, ns)).first;
    }
    std::string order = str(*svc, "/metadata/creationTimestamp") + " " + key;
    for (auto& d : render::renderOutbound(objects_, mesh_, view->second, *svc)) {
      now.push_back(d.authority);
      if (table_.publishOutbound(d.authority, d.aliases, order, std::move(d.doc))) {
        ++stats.documentsPublished;
      }
    }
  }
  auto& before = authoritiesOf_[key];
  for (const auto& a : before) {
    if (std::find(now.begin(), now.end(), a) == now.end()) {
      table_.removeOutbound(a);
      ++stats.documentsRemoved;
    }
  }
  if (now.empty()) {
    authoritiesOf_.erase(key);
  } else {
    before = std::move(now);
  }
}

void Reconciler::renderPod(const std::string& key, PassStats& stats) {
  ObjectPtr pod = objects_.get(Kind::kPod, key);
  if (!pod) {
    table_.removeInbound(key);
    podProblems_.erase(key);
    publishedPods_.erase(key);
    return;
  }
  publishedPods_.insert(key);
  ++stats.podsRendered;
  std::string ns = nsOf(key);
  auto view = views_.find(ns);
  if (view == views_.end()) {
    view = views_.emplace(ns, render::resolveNamespace(objects_, mesh_, ns)).first;
  }
  std::vector<std::string> problems;
  Json doc = render::renderInbound(mesh_, view->second, objects_, *pod, problems);
  if (table_.publishInbound(key, std::move(doc))) {
    ++stats.documentsPublished;
  }
  auto& before = podProblems_[key];
  if (problems != before) {
    for (const auto& p : problems) {
      if (std::find(before.begin(), before.end(), p) == before.end()) {
        writer_.recordEvent({Kind::kPod, key, "Warning", "InvalidAnnotation", p});
        ++stats.events;
      }
    }
    before = problems;
  }
  if (problems.empty()) {
    podProblems_.erase(key);
  }
}

PassStats Reconciler::reconcile() {
  PassStats stats;
  std::set<std::pair<int, std::string>> seen;
  bool all = all_;
  all_ = false;
  if (all) {
    meshVerdicts_.clear();
    mesh_ = render::resolveMesh(objects_, meshVerdicts_);
    views_.clear();
    for (Kind k : {Kind::kTrafficPolicy, Kind::kTrafficRoute, Kind::kAccessPolicy}) {
      for (const auto& [key, obj] : objects_.all(k)) {
        dirtyNamespaces_.insert(nsOf(key));
      }
    }
    for (const auto& [key, obj] : objects_.all(Kind::kService)) {
      dirtyServices_.insert(key);
    }
    for (const auto& [key, obj] : authoritiesOf_) {
      dirtyServices_.insert(key);
    }
    for (const auto& [key, obj] : objects_.all(Kind::kPod)) {
      dirtyPods_.insert(key);
    }
    dirtyPods_.insert(publishedPods_.begin(), publishedPods_.end());
    writeVerdicts(meshVerdicts_, seen, stats);
  }
  for (const auto& ns : dirtyNamespaces_) {
    views_[ns] = render::resolveNamespace(objects_, mesh_, ns);
    writeVerdicts(views_[ns].verdicts, seen, stats);
  }
  // Status of resources that are gone (in a namespace looked at, or anywhere on a full pass).
  for (auto it = conditions_.begin(); it != conditions_.end();) {
    auto kind = static_cast<Kind>(it->first.first);
    bool inScope = all || dirtyNamespaces_.contains(nsOf(it->first.second));
    if (inScope && !seen.contains(it->first) && !objects_.get(kind, it->first.second)) {
      writer_.forget(kind, it->first.second);
      it = conditions_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& key : dirtyServices_) {
    renderService(key, stats);
  }
  dirtyNamespaces_.clear();
  dirtyServices_.clear();
  // Destinations first: when many pods wait too (a Mesh change, the first
  // sync), leave them to the next pass so that outbound streams are pushed
  // without waiting for every Inbound document.
  if (stats.documentsPublished + stats.documentsRemoved > 0 && dirtyPods_.size() > kPodsDeferred) {
    return stats;
  }
  for (const auto& key : dirtyPods_) {
    renderPod(key, stats);
  }
  dirtyPods_.clear();
  return stats;
}

}  // namespace weft::op::reconcile
