// The proxy's client of the operator's discovery API: one HTTPS stream of newline-delimited
// documents per subscribed authority (and one for the pod's Inbound), turned into Snapshots.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "proxy/src/config/snapshot.h"
#include "proxy/src/discovery/trust.h"

struct ssl_st;

namespace weft::proxy::discovery {

struct ClientOptions {
  std::string host;  // control plane, e.g. "weft-control.weft.svc"
  std::uint16_t port = 8443;
  // The name the server certificate must carry (and the SNI); defaults to `host`.
  std::string serverName;
  // The roots that sign the control plane's certificate. Required: discovery is never
  // unauthenticated.
  std::shared_ptr<ControlPlaneTrust> trust;
  // "namespace/name": also subscribe to this pod's Inbound stream.
  std::optional<std::string> pod;
  std::chrono::milliseconds backoffBase{100};
  std::chrono::milliseconds backoffMax{30000};
  // Connect + TLS handshake + response header; the stream itself may stay quiet for ever.
  std::chrono::milliseconds connectTimeout{5000};
  std::size_t maxLineBytes = 4u << 20;  // one document
  // Called on each new connection before its handshake, on the client's
  // thread: puts the workload certificate on it once there is one (the
  // control plane then knows which proxy subscribes).
  std::function<void(ssl_st*)> presentCertificate;
};

// Monotonic counters for the metrics owner.
struct ClientStats {
  std::uint64_t connects = 0;   // streams that got a 200 response
  std::uint64_t failures = 0;   // connect, TLS, HTTP status or broken stream
  std::uint64_t documents = 0;  // lines accepted
  std::uint64_t rejected = 0;   // lines refused (the last good document stays)
  std::uint64_t snapshots = 0;  // snapshots published
};

// Runs its own thread and io_context. Every stream reconnects with exponential backoff and
// jitter, and keeps its last good document while disconnected, so the proxy keeps serving
// with the last known configuration when the control plane is away.
class Client {
 public:
  // Called with each new snapshot on the client's thread; post it to the workers and return
  // (never block, never call stop() from it).
  using OnSnapshot = std::function<void(config::SnapshotPtr)>;

  // Validates the options; starts nothing yet.
  static Result<std::unique_ptr<Client>> create(ClientOptions options, OnSnapshot onSnapshot);
  ~Client();  // stop()s
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the thread and the Inbound stream (when a pod was given). Call once.
  void start();
  // Closes every stream and joins the thread. Idempotent.
  void stop();

  // Subscribes to `authority` ("host:port", as the app dialed it) unless already subscribed.
  // Thread-safe and non-blocking: the document arrives later as a new snapshot; until then
  // the caller decides (e.g. forward to the original destination).
  void subscribe(const std::string& authority);

  // Ends the stream of `authority` and forgets its document (publishing a snapshot without
  // it), e.g. when the proxy has not called that destination for a while. Thread-safe.
  void unsubscribe(const std::string& authority);

  // The last published snapshot; never null (empty before the first document). Thread-safe.
  config::SnapshotPtr current() const;
  ClientStats stats() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::proxy::discovery
