// Reconciler: level-triggered. Changes only mark what they may affect
// (Services, Pods, namespaces of custom resources); reconcile() reads the
// current objects, renders, and publishes documents and writes status only
// where the result differs from what was last published or written. A second
// reconcile() in a row does nothing.
//
// Not thread-safe: every call on one thread (the operator's io thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "operator/src/discovery/table.h"
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

  bool pending() const;
  // One pass. When it published destinations and many pods are waiting as
  // well, the pods are left for the next pass (pending() stays true).
  PassStats reconcile();

  const render::Objects& objects() const { return objects_; }
  const render::MeshView& mesh() const { return mesh_; }

 private:
  void touch(Kind kind, const nlohmann::json& object);
  void markServicesOfPod(const std::string& ns, const std::string& name);
  void markRouteParents(const std::string& ns, const std::string& backend);
  void writeVerdicts(const std::vector<render::Verdict>& verdicts,
                     std::set<std::pair<int, std::string>>& seen, PassStats& stats);
  void renderService(const std::string& key, PassStats& stats);
  void renderPod(const std::string& key, PassStats& stats);

  discovery::DocumentTable& table_;
  status::StatusWriter& writer_;
  status::Clock clock_;
  render::Objects objects_;
  render::MeshView mesh_;
  std::vector<render::Verdict> meshVerdicts_;
  std::map<std::string, render::NamespaceView> views_;

  bool all_ = true;
  std::set<std::string> dirtyNamespaces_;
  std::set<std::string> dirtyServices_;
  std::set<std::string> dirtyPods_;

  // What was last written / published, to skip writes that change nothing.
  std::map<std::pair<int, std::string>, nlohmann::json> conditions_;
  std::map<std::string, std::vector<std::string>> authoritiesOf_;  // Service -> authorities
  std::map<std::string, std::vector<std::string>> podProblems_;
  std::set<std::string> publishedPods_;
};

}  // namespace weft::op::reconcile
