// The discovery API: HTTPS (TLS 1.2+), long-lived chunked responses of
// newline-delimited JSON documents:
//   GET /v1/discovery/outbound?authority=HOST:PORT
//   GET /v1/discovery/inbound?pod=NAMESPACE/NAME
// and, on the same port, POST /v1/identity/certify (handed to
// ServerOptions::certify; a slow or bad request never holds up the streams).
// Every connection is asked for a client certificate: streams are opened
// only as client_auth.h allows, and end when that certificate expires (the
// proxy reconnects with its renewed one); certify needs none.
// The serving certificate can be replaced at any time (renewal): new
// connections get the new one, open streams keep theirs.
// Each stream gets the current document at once, then every new version.
// A stream whose client reads slowly is sent only the latest version when its
// previous write completes (coalescing), so it never holds up the others.
//
// Runs on one io_context (single-threaded, as is the DocumentTable it reads);
// every member is called on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "operator/src/discovery/client_auth.h"
#include "operator/src/discovery/table.h"
#include "operator/src/discovery/tls.h"

namespace boost::asio {
class io_context;
}

namespace weft::op::discovery {

// The answer to one certify request (status, JSON body, Retry-After seconds or 0).
struct CertifyReply {
  int status = 503;
  std::string body;
  int retryAfterSeconds = 0;
};
// Called on the io thread with the Authorization header and the body; calls
// `reply` exactly once, on the io thread, possibly later (after a TokenReview).
using CertifyHandler = std::function<void(std::string authorization, std::string body,
                                          std::function<void(CertifyReply)> reply)>;

struct ServerOptions {
  std::string listen = "0.0.0.0:8443";  // "host:port"; port 0 picks one
  CertificatePair certificate;          // the first; setCertificate() replaces it
  std::chrono::milliseconds handshakeTimeout{10000};
  // A write that does not finish in this time closes the stream.
  std::chrono::milliseconds writeTimeout{30000};
  std::size_t maxStreams = 50000;
  // Reading a request (header and, for certify, body) must finish in this time.
  std::chrono::milliseconds readTimeout{10000};
  std::size_t maxCertifyBody = 64 * 1024;
  // Without it, certify answers 503.
  CertifyHandler certify;
  // Who may subscribe; the roots come from setTrustBundle().
  ClientAuth clientAuth = ClientAuth::kRequire;
  // Asked on the io thread about a subscriber with a valid certificate: the
  // mesh's trust domain, and the SPIFFE ID of pod "namespace/name" (nullopt
  // when the pod is unknown). Unset: "cluster.local", and no pod is known.
  std::function<std::string()> trustDomain;
  std::function<std::optional<std::string>(const std::string& podKey)> podIdentity;
  // Called with the seconds from publish to written, for each update pushed.
  std::function<void(double)> onPush;
  // Called after a stream was sent a document, opened or closed: what
  // deliveries() reports may have changed.
  std::function<void()> onDelivery;
};

struct ServerStats {
  std::size_t openStreams = 0;
  std::uint64_t streamsTotal = 0;
  std::uint64_t pushes = 0;                       // documents written to streams
  std::uint64_t coalesced = 0;                    // versions skipped for a slow reader
  std::uint64_t rejected = 0;                     // bad requests, TLS failures, over the limit
  std::map<std::string, std::uint64_t> refused;   // subscribers refused, by Refusal::reason
  double pushLatencySecondsSum = 0;               // publish -> written, per push
  std::vector<std::uint64_t> pushLatencyBuckets;  // counts per bound of kLatencyBounds, +Inf last
};

inline constexpr double kLatencyBounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};

class Server {
 public:
  // Binds the listener now (bad address, port in use and bad certificates
  // are errors here); serves once the io_context runs.
  static Result<std::unique_ptr<Server>> create(boost::asio::io_context& io, DocumentTable& table,
                                                ServerOptions options);
  ~Server();

  std::uint16_t port() const;
  // Serves new connections with this certificate (leaf then chain) from now
  // on; open streams keep theirs. Refuses a pair that does not load or fit,
  // keeping the current one.
  Result<void> setCertificate(const CertificatePair& certificate);
  // Tells the streams subscribed to `key` that its document may have changed.
  void notify(Stream stream, const std::string& key);
  // The mesh roots subscribers' certificates must chain to (PEM). Refuses a
  // bundle that does not parse, keeping the previous one.
  Result<void> setTrustBundle(const std::vector<std::string>& pems);
  // Stops accepting and closes every stream.
  void stop();
  ServerStats stats() const;
  // One walk over the open streams; meant for the status writer, rate-limited.
  Deliveries deliveries() const;

  struct Impl;  // defined in server.cc; public only so its coroutines can name it

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// A listen address "ip:port" or "[ipv6]:port"; port 0 asks for any free port.
struct ListenAddress {
  std::string ip;
  std::uint16_t port = 0;
};
Result<ListenAddress> parseListen(const std::string& text);

// Parses the target of a discovery request into the stream and its key
// (a normalised authority, or "namespace/name"). Exposed for tests.
struct StreamRequest {
  Stream stream = Stream::kOutbound;
  std::string key;
};
Result<StreamRequest> parseTarget(const std::string& target);

}  // namespace weft::op::discovery
