// Objects: the operator's in-memory view of every watched object, indexed the
// way rendering reads it. Owned and mutated by one thread (the reconciler's).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/src/source/source.h"

namespace weft::op::render {

using source::Kind;
using source::ObjectPtr;

class Objects {
 public:
  using Map = std::map<std::string, ObjectPtr>;  // by "namespace/name"

  // Both return the object that was there before (nullptr if none).
  ObjectPtr upsert(Kind kind, ObjectPtr object);
  ObjectPtr remove(Kind kind, const std::string& key);

  ObjectPtr get(Kind kind, const std::string& key) const;
  const Map& all(Kind kind) const { return byKind_[static_cast<int>(kind)]; }
  // Objects of `kind` in namespace `ns`, in name order.
  std::vector<ObjectPtr> inNamespace(Kind kind, const std::string& ns) const;
  // EndpointSlices labelled kubernetes.io/service-name for the Service "ns/name".
  std::vector<ObjectPtr> slicesOf(const std::string& serviceKey) const;

 private:
  Map byKind_[8];
  std::map<std::string, std::map<std::string, ObjectPtr>> slicesByService_;
};

// "ns/name" of the Service an EndpointSlice belongs to; empty when unlabelled.
std::string serviceKeyOfSlice(const nlohmann::json& slice);

}  // namespace weft::op::render
