// Secrets as decoded key -> value maps for the keeper: read (absent is not
// an error), create or replace; and PEM bundles joined into one text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json/json.h"
#include "common/result.h"

namespace weft::kube {
class KubeApi;
}

namespace weft::op::identity {

using Data = std::map<std::string, std::string>;

struct Stored {
  Data data;
  json::Json object;  // as read, for a PUT with its resourceVersion
};

// A Secret's decoded data, or nullopt when it does not exist.
Result<std::optional<Stored>> readSecret(kube::KubeApi& api, const std::string& ns,
                                         const std::string& name);
// Creates the Secret (type kubernetes.io/tls), or replaces the data of
// `existing` (a stale read is a conflict: the next sync reads again).
Result<void> writeSecret(kube::KubeApi& api, const std::string& ns, const std::string& name,
                         const Data& data, const std::optional<Stored>& existing);

std::string joined(const std::vector<std::string>& pems);

}  // namespace weft::op::identity
