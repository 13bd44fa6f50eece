// A keep-alive HTTP/1.1 client connection for weft-sample (load and --call).
#pragma once

#include <string>
#include <vector>

#include "examples/sample/http.h"
#include "examples/sample/net.h"

namespace weft::sample {

struct Exchange {
  Io io = Io::kOk;  // kOk: `response` is complete
  Response response;
};

// One connection at a time to one destination, reopened as needed. Not
// thread-safe: each thread owns its clients.
class HttpClient {
 public:
  HttpClient(std::vector<Address> addresses, std::string host)
      : addresses_(std::move(addresses)), host_(std::move(host)) {}

  // GET target by the deadline. A request that fails on a reused connection
  // before any response byte is sent once more on a new connection: the
  // server may have closed the idle connection as the request went out.
  Exchange get(const std::string& target, const Headers& extra, Deadline deadline);

 private:
  Exchange attempt(const std::string& request, Deadline deadline, bool* retryable);

  std::vector<Address> addresses_;
  std::string host_;
  Connection conn_;
};

}  // namespace weft::sample
