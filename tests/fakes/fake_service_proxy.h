// The socket half of the fake's services/proxy: one request to the endpoint
// FakeApiState::resolveServiceProxy chose, over TLS without verifying it
// (kube-apiserver does not verify a service's certificate either).
#pragma once

#include "tests/fakes/fake_api_state.h"

namespace weft::testing {

// The endpoint's answer (status, content type, body), or the 503 Status
// kube-apiserver sends when it cannot reach it. Bounded to a few seconds.
FakeResponse forwardServiceProxy(const FakeApiState::ProxyTarget& target,
                                 const FakeRequest& request);

}  // namespace weft::testing
