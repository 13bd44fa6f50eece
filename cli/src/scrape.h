// HTTP GET of many admin endpoints at once (weftctl stat's scrapes), each
// bounded by one deadline so that a silent proxy never holds the others up.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/api/documents.h"
#include "common/result.h"

namespace weft::cli {

// GETs `path` from every target concurrently. Each result is the 200
// response's body, or an error saying what went wrong ("connection refused",
// "HTTP 404", "no answer within 1s"). Returns within about `timeout`.
std::vector<Result<std::string>> scrapeAll(const std::vector<api::HostPort>& targets,
                                           const std::string& path,
                                           std::chrono::milliseconds timeout);

}  // namespace weft::cli
