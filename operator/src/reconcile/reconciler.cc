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
  table_.setInboundFallback([this](const std::string& podKey) {
    auto doc = render::emptyInbound(podKey, mesh_);
    doc["trustBundle"] = trustBundle_;
    return doc;
  });
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
      // Its weft.io/inject label decides which of its pods should be meshed.
      for (const ObjectPtr& pod : objects_.inNamespace(Kind::kPod, nameOf(key))) {
        dirtyPods_.insert(source::keyOf(*pod));
      }
      break;
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

void Reconciler::setLeader(bool leader) {
  if (leader && !leader_) {
    // What this replica remembers was never written: compare status with the
    // cache again. Pod Events leave no trace in the cache, so pod problems are
    // reported again (an old leader may have reported them too).
    conditions_.clear();
    podProblems_.clear();
    unmeshed_.clear();
    all_ = true;
  }
  leader_ = leader;
}

void Reconciler::writeVerdicts(const std::vector<render::Verdict>& verdicts,
                               std::set<ObjectId>& seen) {
  for (const auto& v : verdicts) {
    ObjectId id{static_cast<int>(v.kind), v.key};
    seen.insert(id);
    verdicts_[id] = v;
    unflushed_.insert(id);
  }
}

render::Condition Reconciler::programmed(const render::Verdict& v,
                                         const discovery::Deliveries& deliveries) const {
  for (const auto& c : v.conditions) {
    if (c.type == "Accepted" && c.status == "False") {
      return {"Programmed", "False", "NotAccepted", "not accepted, so not sent to any proxy"};
    }
  }
  // The documents the resource shapes, by their current version.
  std::set<std::string> versions;
  bool podsWaiting = false;
  auto addService = [&](const std::string& svc) {
    if (auto it = authoritiesOf_.find(svc); it != authoritiesOf_.end()) {
      for (const auto& a : it->second) {
        versions.insert(table_.outbound(a)->version);
      }
    }
  };
  std::string ns = nsOf(v.key);
  ObjectPtr obj = objects_.get(v.kind, v.key);
  switch (v.kind) {
    case Kind::kMesh:
      for (const auto& [svc, authorities] : authoritiesOf_) {
        addService(svc);
      }
      for (const auto& pod : publishedPods_) {
        versions.insert(table_.inbound(pod)->version);
      }
      podsWaiting = !dirtyPods_.empty();
      break;
    case Kind::kTrafficPolicy:
      if (obj) {
        addService(ns + "/" + str(*obj, "/spec/targetRef/name"));
      }
      break;
    case Kind::kTrafficRoute:
      if (auto parents = obj ? json::getArray(*obj, "/spec/parentRefs") : Result<Json>(Json())) {
        for (const Json& p : *parents) {
          if (p.is_object() && p.value("name", Json()).is_string()) {
            addService(ns + "/" + p["name"].get<std::string>());
          }
        }
      }
      break;
    case Kind::kAccessPolicy:
      for (const ObjectPtr& pod :
           obj ? objects_.inNamespace(Kind::kPod, ns) : std::vector<ObjectPtr>{}) {
        if (render::accessApplies(objects_, *obj, *pod)) {
          std::string podKey = source::keyOf(*pod);
          versions.insert(table_.inbound(podKey)->version);
          podsWaiting = podsWaiting || dirtyPods_.contains(podKey);
        }
      }
      break;
    default:
      break;
  }
  discovery::Delivery total;
  for (const auto& version : versions) {
    if (auto it = deliveries.find(version); it != deliveries.end()) {
      total.delivered += it->second.delivered;
      total.subscribed += it->second.subscribed;
    }
  }
  std::string message = "current version delivered to " + std::to_string(total.delivered) + " of " +
                        std::to_string(total.subscribed) + " subscribed proxy streams";
  if (podsWaiting) {
    return {"Programmed", "False", "Pending", "documents of some pods are still being rendered"};
  }
  if (total.delivered < total.subscribed) {
    return {"Programmed", "False", "Pending", message};
  }
  return {"Programmed", "True", "Programmed", message};
}

void Reconciler::flushVerdicts(PassStats& stats) {
  if (unflushed_.empty()) {
    return;
  }
  std::string now = status::rfc3339(clock_());
  discovery::Deliveries deliveries = deliveries_ ? deliveries_() : discovery::Deliveries();
  for (const ObjectId& id : unflushed_) {
    auto found = verdicts_.find(id);
    if (found == verdicts_.end()) {
      continue;
    }
    const render::Verdict& v = found->second;
    Json existing;
    if (auto it = conditions_.find(id); it != conditions_.end()) {
      existing = it->second;
    } else if (ObjectPtr obj = objects_.get(v.kind, v.key)) {
      auto c = json::getArray(*obj, "/status/conditions");
      if (c) {
        existing = *c;
      }
    }
    std::vector<render::Condition> desired = v.conditions;
    if (deliveries_) {
      desired.push_back(programmed(v, deliveries));
    }
    Json merged = status::mergeConditions(existing, desired, v.generation, now);
    if (merged == existing) {
      conditions_[id] = std::move(merged);
      continue;
    }
    // Not the leader: remember what we would write; the leader writes it.
    if (leader_) {
      // Programmed=False (Pending) is progress, not a problem: no Event for it.
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
    }
    conditions_[id] = std::move(merged);
  }
  unflushed_.clear();
}

PassStats Reconciler::refreshProgrammed() {
  PassStats stats;
  if (!leader_ || !deliveries_) {
    return stats;
  }
  for (const auto& [id, verdict] : verdicts_) {
    unflushed_.insert(id);
  }
  flushVerdicts(stats);
  return stats;
}

void Reconciler::checkMeshing(const std::string& key, const Json& pod, PassStats& stats) {
  if (!meshingScope_) {
    return;
  }
  ObjectPtr ns = objects_.get(Kind::kNamespace, "/" + nsOf(key));
  if (render::meshingOf(pod, ns.get(), *meshingScope_) != render::Meshing::kUnmeshed) {
    unmeshed_.erase(key);
    return;
  }
  if (unmeshed_.insert(key).second && leader_) {
    writer_.recordEvent({Kind::kPod, key, "Warning", "NotMeshed",
                         "opted in to the mesh but running without the weft-proxy container "
                         "(created while the injector was unavailable?): restart the workload, "
                         "e.g. kubectl rollout restart, to mesh it"});
    ++stats.events;
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
    unmeshed_.erase(key);
    return;
  }
  checkMeshing(key, *pod, stats);
  publishedPods_.insert(key);
  ++stats.podsRendered;
  std::string ns = nsOf(key);
  auto view = views_.find(ns);
  if (view == views_.end()) {
    view = views_.emplace(ns, render::resolveNamespace(objects_, mesh_, ns)).first;
  }
  std::vector<std::string> problems;
  Json doc = render::renderInbound(mesh_, view->second, objects_, *pod, problems);
  doc["trustBundle"] = trustBundle_;
  if (table_.publishInbound(key, std::move(doc))) {
    ++stats.documentsPublished;
  }
  auto& before = podProblems_[key];
  if (problems != before) {
    for (const auto& p : problems) {
      if (std::find(before.begin(), before.end(), p) == before.end() && leader_) {
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

void Reconciler::setTrustBundle(std::vector<std::string> bundle) {
  if (bundle == trustBundle_) {
    return;
  }
  trustBundle_ = std::move(bundle);
  for (const auto& [key, obj] : objects_.all(Kind::kPod)) {
    dirtyPods_.insert(key);
  }
  dirtyPods_.insert(publishedPods_.begin(), publishedPods_.end());
}

PassStats Reconciler::reconcile() {
  PassStats stats;
  std::set<ObjectId> seen;
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
    writeVerdicts(meshVerdicts_, seen);
  }
  for (const auto& ns : dirtyNamespaces_) {
    views_[ns] = render::resolveNamespace(objects_, mesh_, ns);
    writeVerdicts(views_[ns].verdicts, seen);
  }
  // Status of resources that are gone (in a namespace looked at, or anywhere on a full pass).
  for (auto it = verdicts_.begin(); it != verdicts_.end();) {
    auto kind = static_cast<Kind>(it->first.first);
    bool inScope = all || dirtyNamespaces_.contains(nsOf(it->first.second));
    if (inScope && !seen.contains(it->first) && !objects_.get(kind, it->first.second)) {
      writer_.forget(kind, it->first.second);
      conditions_.erase(it->first);
      unflushed_.erase(it->first);
      it = verdicts_.erase(it);
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
    flushVerdicts(stats);
    return stats;
  }
  for (const auto& key : dirtyPods_) {
    renderPod(key, stats);
  }
  dirtyPods_.clear();
  flushVerdicts(stats);
  return stats;
}

}  // namespace weft::op::reconcile
