// weft-sample serve: a thread per connection, every wait bounded.
#include "examples/sample/server.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "common/json/json.h"
#include "examples/sample/client.h"
#include "examples/sample/http.h"

namespace weft::sample {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kWriteTimeout{10000};
// Past this, a drain gives up on requests still in flight.
constexpr milliseconds kDrainTimeout{15000};

struct Shared {
  ServeOptions options;
  std::vector<Address> upstream;
  int stopFd = -1;
  std::mutex mu;
  std::condition_variable idle;
  unsigned active = 0;
};

struct Reply {
  int status = 200;
  Headers headers;
  json::Json body = json::Json::object();
};

double uniform(double lo, double hi) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<>(lo, hi)(rng);
}

milliseconds latencyOf(const ServeOptions& o) {
  if (o.jitter.count() == 0) {
    return o.latency;
  }
  double ms = uniform(static_cast<double>((o.latency - o.jitter).count()),
                      static_cast<double>((o.latency + o.jitter).count()));
  return milliseconds(std::max<std::int64_t>(0, static_cast<std::int64_t>(ms)));
}

// The upstream call of --call: its status becomes ours.
void callUpstream(const ServeOptions& o, HttpClient& upstream, Reply& reply) {
  Headers headers;
  headers.fields.emplace_back("x-sample-caller", o.name);
  Exchange ex = upstream.get(o.call->target, headers, Clock::now() + o.callTimeout);
  json::Json up = {{"url", "http://" + o.call->authority + o.call->target}};
  if (ex.io != Io::kOk) {
    reply.status = ex.io == Io::kTimeout ? 504 : 502;
    up["error"] = toString(ex.io);
    reply.body["upstream"] = up;
    return;
  }
  reply.status = ex.response.status;
  up["status"] = ex.response.status;
  std::string version = ex.response.headers.get("x-sample-version");
  if (!version.empty()) {
    reply.headers.fields.emplace_back("x-sample-upstream-version", version);
    up["version"] = version;
  }
  std::string proxyError = ex.response.headers.get("weft-error");
  if (!proxyError.empty()) {
    up["weft-error"] = proxyError;
  }
  reply.body["upstream"] = up;
}

Reply answer(const ServeOptions& o, const Request& request, HttpClient* upstream) {
  Reply reply;
  reply.body["name"] = o.name;
  reply.body["version"] = o.version;
  std::string path = request.target.substr(0, request.target.find('?'));
  if (path == "/healthz") {
    reply.body["status"] = "ok";
    return reply;
  }
  if (auto delay = latencyOf(o); delay.count() > 0) {
    std::this_thread::sleep_for(delay);
  }
  if (o.errorRate > 0 && uniform(0, 1) < o.errorRate) {
    reply.status = 503;
    reply.body["error"] = "failed on purpose (--error-rate)";
    return reply;
  }
  if (upstream != nullptr) {
    callUpstream(o, *upstream, reply);
  }
  return reply;
}

void sendError(Connection& conn, int status, const std::string& why) {
  json::Json body = {{"error", why}};
  conn.write(formatResponse(status, {}, json::dump(body) + "\n", true),
             Clock::now() + milliseconds(1000));
}

void serveConnection(const std::shared_ptr<Shared>& shared, Socket socket) {
  const ServeOptions& o = shared->options;
  Connection conn(std::move(socket));
  std::optional<HttpClient> upstream;
  if (o.call) {
    upstream.emplace(shared->upstream, o.callHost.empty() ? o.call->authority : o.callHost);
  }
  for (;;) {
    Request request;
    std::string why;
    Io io = conn.readRequest(request, Clock::now() + o.idleTimeout, o.readTimeout, shared->stopFd,
                             &why);
    if (io == Io::kBadMessage) {
      sendError(conn, 400, why);
    } else if (io == Io::kTooLarge) {
      sendError(conn, why.find("head") != std::string::npos ? 431 : 413, why);
    }
    if (io != Io::kOk) {
      break;
    }
    Reply reply = answer(o, request, upstream ? &*upstream : nullptr);
    reply.headers.fields.emplace_back("x-sample-name", o.name);
    reply.headers.fields.emplace_back("x-sample-version", o.version);
    reply.headers.fields.emplace_back("content-type", "application/json");
    bool close = !request.keepAlive() || stopRequested(shared->stopFd);
    std::string bytes =
        formatResponse(reply.status, reply.headers, json::dump(reply.body) + "\n", close);
    if (request.method == "HEAD") {
      bytes.resize(bytes.find("\r\n\r\n") + 4);
    }
    if (conn.write(bytes, Clock::now() + kWriteTimeout) != Io::kOk || close) {
      break;
    }
  }
}

}  // namespace

int runServe(const ServeOptions& options, int stopFd, std::ostream& out) {
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->stopFd = stopFd;
  if (options.call) {
    auto addresses = resolve(options.call->hostPort);
    if (!addresses) {
      std::cerr << "weft-sample: error: --call: " << addresses.error().message << "\n";
      return 1;
    }
    shared->upstream = std::move(*addresses);
  }
  auto listener = listenTcp(options.listen);
  if (!listener) {
    std::cerr << "weft-sample: error: " << listener.error().message << "\n";
    return 1;
  }
  out << "listening on " << HostPort{options.listen.host, localPort(*listener)}.text() << std::endl;
  for (;;) {
    Socket socket;
    if (acceptTcp(*listener, stopFd, socket) == Io::kStopped) {
      break;
    }
    {
      std::lock_guard lock(shared->mu);
      if (shared->active >= options.maxConnections) {
        Connection refused(std::move(socket));
        sendError(refused, 503, "too many connections");
        continue;
      }
      ++shared->active;
    }
    std::thread([shared, s = std::move(socket)]() mutable {
      serveConnection(shared, std::move(s));
      std::lock_guard lock(shared->mu);
      if (--shared->active == 0) {
        shared->idle.notify_all();
      }
    }).detach();
  }
  listener->reset();
  std::unique_lock lock(shared->mu);
  if (!shared->idle.wait_for(lock, kDrainTimeout, [&] { return shared->active == 0; })) {
    std::cerr << "weft-sample: " << shared->active
              << " connection(s) still busy after the drain timeout; exiting anyway\n";
    std::fflush(nullptr);
    std::_Exit(0);  // detached threads still run: skip static destructors
  }
  return 0;
}

}  // namespace weft::sample
