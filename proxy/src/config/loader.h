// Loading proxy documents from a file (`weft-proxy --config FILE`): YAML or JSON, several
// documents, all or nothing.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "proxy/src/config/snapshot.h"

namespace weft::proxy::config {

// Largest accepted config file; a wrong path to a huge file fails fast.
inline constexpr std::size_t kMaxConfigBytes = 16u << 20;

// Reads every document of `path` (each with `kind: Outbound|Inbound`; at most one Inbound) into
// a Snapshot whose version is "file:" + a hash of the content. A `.json` file holds one document
// or an array of them; anything else is read as YAML ("---" between documents; JSON is valid
// YAML too). Any problem refuses the whole file with one error naming the file, the 1-based
// document index and the field path:
//   "proxy.yaml: document 2: Outbound backend.demo:8080: /policy/retries/attempts: ..."
// Unknown fields are errors. Blocking file I/O: call it off the request path.
Result<SnapshotPtr> loadFile(const std::string& path);

// The same from text already read; `name` stands for the file in errors, and `json` selects
// the JSON reading.
Result<SnapshotPtr> loadText(std::string_view text, const std::string& name, bool json = false);

}  // namespace weft::proxy::config
