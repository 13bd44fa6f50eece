// Inbound authorization (AccessPolicy, the Inbound document's
// `authorization.rules`): pure rule evaluation, no I/O. DENY rules are checked
// first, then ALLOW; when ALLOW rules exist and none matches, the caller is
// denied; no rules allow everyone. Immutable after create(): shared by workers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/documents.h"
#include "common/result.h"
#include "proxy/src/route/route_table.h"

namespace weft::proxy::authz {

// What a rule sees of a connection or request.
struct Request {
  std::optional<std::string_view> peer;  // verified SPIFFE ID; none for plaintext
  int port = 0;                          // the app's port
  // HTTP only; a TCP connection has neither and matches only rules that
  // name no methods and no paths.
  std::optional<std::string_view> method;
  std::optional<std::string_view> path;  // without the query
};

struct Decision {
  bool allowed = true;
  std::string reason;  // one line, for the 403 body and logs; empty when allowed
};

class Authorizer {
 public:
  // Refuses a rule with a bad path match, naming it.
  static Result<Authorizer> create(const api::Authorization& authorization);
  Decision check(const Request& request) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    api::AuthzAction action;
    std::vector<std::string> identities;
    std::vector<std::string> namespaces;
    std::vector<int> ports;
    std::vector<std::string> methods;
    std::vector<route::PathMatcher> paths;
    bool matches(const Request& r) const;
  };
  std::vector<Rule> rules_;
  bool anyAllow_ = false;
};

// The namespace of spiffe://<trust domain>/ns/<namespace>/sa/<account>;
// none when the ID has another shape.
std::optional<std::string_view> namespaceOf(std::string_view spiffeId);

}  // namespace weft::proxy::authz
