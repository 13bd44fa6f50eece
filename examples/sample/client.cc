// Keep-alive HTTP/1.1 client.
#include "examples/sample/client.h"

namespace weft::sample {

Exchange HttpClient::get(const std::string& target, const Headers& extra, Deadline deadline) {
  const std::string request = formatRequest("GET", target, host_, extra);
  bool retryable = false;
  Exchange out = attempt(request, deadline, &retryable);
  if (out.io != Io::kOk && retryable) {
    out = attempt(request, deadline, &retryable);
  }
  return out;
}

Exchange HttpClient::attempt(const std::string& request, Deadline deadline, bool* retryable) {
  Exchange out;
  bool reused = conn_.open();
  *retryable = false;
  if (!reused) {
    Socket s;
    out.io = connectTcp(addresses_, deadline, s);
    if (out.io != Io::kOk) {
      return out;
    }
    conn_ = Connection(std::move(s));
  }
  out.io = conn_.write(request, deadline);
  bool gotBytes = false;
  if (out.io == Io::kOk) {
    out.io = conn_.readResponse(out.response, deadline, false, kMaxBodyBytes, &gotBytes);
  }
  if (out.io != Io::kOk) {
    *retryable = reused && !gotBytes && (out.io == Io::kClosed || out.io == Io::kReset);
    conn_.close();
  } else if (!out.response.keepAlive() || !conn_.open()) {
    conn_.close();
  }
  return out;
}

}  // namespace weft::sample
