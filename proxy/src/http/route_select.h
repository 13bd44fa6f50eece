// Picks the route and weighted backend of a request. A stand-in until
// route/ (the "policy" part) provides the full matcher; the contract is the
// same: first matching route wins, weights choose among its backends.
#pragma once

#include <random>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "common/api/documents.h"

namespace weft::proxy::http {

struct Selection {
  const api::Route* route = nullptr;      // null: no routes, the default backend
  const api::Backend* backend = nullptr;  // null: the named backend does not exist
  std::string backendName;
};

Selection selectBackend(const api::Outbound& out, std::string_view method, std::string_view target,
                        const boost::beast::http::fields& fields, std::mt19937_64& rng);

}  // namespace weft::proxy::http
