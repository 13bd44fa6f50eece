// Reconciler: level-triggered. Changes only mark what they may affect
// (Services, Pods, namespaces of custom resources); reconcile() reads the
// current objects, renders, and publishes documents and writes status only
// where the result differs from what was last published or written. A second
// reconcile() in a row does nothing.
//
// With several replicas only the leader writes status and Events; the others
// render and publish the same documents and keep their bookkeeping, and a
// replica that becomes leader compares against the objects' status as cached.
//
// Not thread-safe: every call on one thread (the operator's io thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operator/src/discovery/table.h"
#include "operator/src/render/meshing.h"
#include "operator/src/render/objects.h"
#include "operator/src/render/resolve.h"
#include "operator/src/status/clock.h"
#include "operator/src/status/status.h"

namespace weft::op::reconcile {

using render::Kind;
using render::ObjectPtr;

struct PassStats {
  std::size_t servicesRendered = 0;
  std::size_t podsRendered = 0;
  std::size_t documentsPublished = 0;  // new versions, outbound and inbound
  std::size_t documentsRemoved = 0;
  std::size_t statusWrites = 0;
  std::size_t events = 0;
};

// What the discovery server has delivered (discovery::Server::deliveries).
using DeliveriesFn = std::function<discovery::Deliveries()>;

class Reconciler {
 public:
  Reconciler(discovery::DocumentTable& table, status::StatusWriter& writer,
             status::Clock clock = status::systemClock());
  ~Reconciler();

  // What sources report (through the app's Sink).
  void upsert(Kind kind, ObjectPtr object);
  void remove(Kind kind, const std::string& key);
  void replace(Kind kind, std::vector<ObjectPtr> objects);
  // Everything is looked at again on the next pass (a periodic resync).
  void markAll();

  // With it, every resource also gets a Programmed condition: whether every
  // stream subscribed to a document it affects was sent the current version.
  void setDeliveries(DeliveriesFn deliveries) { deliveries_ = std::move(deliveries); }
  // With it, opted-in pods running without the proxy get a NotMeshed Event
  // (once each) and are counted; without (local mode: no injector), not.
  void setMeshingScope(render::MeshingScope scope) { meshingScope_ = std::move(scope); }
  // Whether this replica writes status and Events (true by default). Becoming
  // leader re-examines everything on the next pass: status is written where it
  // differs from the cache; pod Events (NotMeshed, InvalidAnnotation) are sent
  // again, since Events are not cached.
  void setLeader(bool leader);
  bool leader() const { return leader_; }

  // The roots proxies trust (PEM), carried by every Inbound document; a
  // change republishes them all, so a trust-anchor rotation needs no restart.
  void setTrustBundle(std::vector<std::string> bundle);

  bool pending() const;
  // One pass. When it published destinations and many pods are waiting as
  // well, the pods are left for the next pass (pending() stays true).
  PassStats reconcile();
  // Re-evaluates Programmed for every resource (deliveries changed); writes
  // only what differs. Does nothing unless leader and setDeliveries was given.
  PassStats refreshProgrammed();

  // Opted-in pods running without the proxy (render/meshing.h).
  std::size_t unmeshedPods() const { return unmeshed_.size(); }

  const render::Objects& objects() const { return objects_; }
  const render::MeshView& mesh() const { return mesh_; }

 private:
  void touch(Kind kind, const nlohmann::json& object);
  void markServicesOfPod(const std::string& ns, const std::string& name);
  void markRouteParents(const std::string& ns, const std::string& backend);
  using ObjectId = std::pair<int, std::string>;
  // Keeps the verdicts; flushVerdicts() writes them after rendering, so that
  // Programmed looks at the documents this pass published.
  void writeVerdicts(const std::vector<render::Verdict>& verdicts, std::set<ObjectId>& seen);
  void flushVerdicts(PassStats& stats);
  render::Condition programmed(const render::Verdict& verdict,
                               const discovery::Deliveries& deliveries) const;
  void checkMeshing(const std::string& key, const nlohmann::json& pod, PassStats& stats);
  void renderService(const std::string& key, PassStats& stats);
  void renderPod(const std::string& key, PassStats& stats);

  discovery::DocumentTable& table_;
  status::StatusWriter& writer_;
  status::Clock clock_;
  DeliveriesFn deliveries_;
  std::optional<render::MeshingScope> meshingScope_;
  bool leader_ = true;
  render::Objects objects_;
  render::MeshView mesh_;
  std::vector<std::string> trustBundle_;
  std::vector<render::Verdict> meshVerdicts_;
  std::map<std::string, render::NamespaceView> views_;

  bool all_ = true;
  std::set<std::string> dirtyNamespaces_;
  std::set<std::string> dirtyServices_;
  std::set<std::string> dirtyPods_;

  // What was last written / published, to skip writes that change nothing.
  std::map<ObjectId, nlohmann::json> conditions_;
  std::map<ObjectId, render::Verdict> verdicts_;  // the latest, without Programmed
  std::set<ObjectId> unflushed_;
  std::set<std::string> unmeshed_;                                 // pods warned about (once each)
  std::map<std::string, std::vector<std::string>> authoritiesOf_;  // Service -> authorities
  std::map<std::string, std::vector<std::string>> podProblems_;
  std::set<std::string> publishedPods_;
};

}  // namespace weft::op::reconcile
