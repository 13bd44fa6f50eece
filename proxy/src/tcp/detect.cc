// HTTP/1 request-line sniffing.
#include "proxy/src/tcp/detect.h"

#include <array>

namespace weft::proxy::tcp {

Detected detect(std::string_view prefix) {
  // Methods of RFC 9110 plus PATCH; "PRI " is the HTTP/2 preface, so it is
  // deliberately absent and goes to TCP.
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "};
  bool couldBe = false;
  for (auto m : kMethods) {
    if (prefix.size() >= m.size()) {
      if (prefix.substr(0, m.size()) == m) {
        return Detected::kHttp1;
      }
    } else if (m.substr(0, prefix.size()) == prefix) {
      couldBe = true;
    }
  }
  return couldBe ? Detected::kNeedMore : Detected::kOpaque;
}

std::vector<std::uint16_t> defaultOpaquePorts() {
  return {25, 587, 3306, 4444, 5432, 6379, 9300, 11211};
}

}  // namespace weft::proxy::tcp
