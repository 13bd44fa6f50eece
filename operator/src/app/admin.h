// The operator's admin listener (plain HTTP): /healthz, /readyz, /metrics and,
// in local mode, /status. Single-threaded on the operator's io_context.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace boost::asio {
class io_context;
}

namespace weft::op::app {

struct AdminResponse {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the io thread for each GET/HEAD; `path` excludes the query.
using AdminHandler = std::function<AdminResponse(const std::string& path)>;

class AdminServer {
 public:
  static Result<std::unique_ptr<AdminServer>> create(boost::asio::io_context& io,
                                                     const std::string& listen,
                                                     AdminHandler handler);
  ~AdminServer();
  std::uint16_t port() const;
  void stop();

  struct Impl;  // defined in admin.cc

 private:
  explicit AdminServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace weft::op::app
