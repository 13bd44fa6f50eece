// Routing of the injector's endpoints.
#include "webhook/src/server/service.h"

#include <chrono>

#include "common/log/log.h"

namespace weft::webhook::server {

http::Response InjectorService::handle(const http::Request& request) {
  if (request.path == "/mutate") {
    if (request.method != "POST") {
      auto r = http::Response::text(405, "use POST\n");
      r.headers.push_back({"Allow", "POST"});
      return r;
    }
    auto started = std::chrono::steady_clock::now();
    admission::Reply reply = mutator_.review(request.body);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    metrics_.record(reply.result, took.count());
    log::get("injector")->debug("admission: {} in {:.3f} ms", reply.result, took.count() * 1e3);
    if (reply.httpStatus != 200) {
      return http::Response::text(reply.httpStatus, std::move(reply.body));
    }
    return http::Response::json(200, std::move(reply.body));
  }
  if (request.path == "/healthz" && request.method == "GET") {
    return http::Response::text(200, "ok\n");
  }
  if (request.path == "/readyz" && request.method == "GET") {
    std::string why = unready_ ? unready_() : "";
    return why.empty() ? http::Response::text(200, "ready\n")
                       : http::Response::text(503, why + "\n");
  }
  if (request.path == "/metrics" && request.method == "GET") {
    auto r = http::Response::text(200, metrics_.render());
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  return http::Response::text(404, "not found\n");
}

}  // namespace weft::webhook::server
