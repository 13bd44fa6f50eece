// Small file helpers returning Result instead of throwing.
#pragma once

#include <string>

#include "common/result.h"

namespace weft {

// The whole file; refuses files larger than maxBytes (config files are small,
// and an unbounded read of a wrong path could exhaust memory).
Result<std::string> readFile(const std::string& path, std::size_t maxBytes = 64u << 20);

// Writes to a temporary file beside `path` and renames it over, so readers
// see the old or the new content, never a mix.
Result<void> writeFileAtomic(const std::string& path, const std::string& content);

}  // namespace weft
