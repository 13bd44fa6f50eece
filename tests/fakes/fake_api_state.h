// The in-memory heart of the fake kube-apiserver: objects, a global
// resourceVersion, watch history, and the request -> response logic, with no
// sockets (FakeApiServer puts HTTP around it; tests may also call it directly).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace weft::testing {

class FakeRbac;

struct FakeRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string target;  // path and query, as sent
  std::string body;
  std::string contentType;
  std::string authorization;  // the Authorization header
};

struct FakeResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
};

// A kind the fake serves.
struct FakeKind {
  std::string group;  // "" = core
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;
  bool hasStatus = false;  // serves the /status subresource
};

class FakeApiState {
 public:
  FakeApiState();

  // A watch in progress: where it is in the history and what it wants.
  struct Watch {
    const FakeKind* kind = nullptr;
    std::string ns;
    std::string labelSelector;
    std::int64_t cursor = 0;  // events with a larger RV are still to send
    bool bookmarks = false;
    std::chrono::steady_clock::time_point deadline;
    std::uint64_t dropGeneration = 0;
  };
  enum class WaitResult { kLines, kTimeout, kDropped, kStopped };

  static bool isWatchRequest(const FakeRequest& request);

  // services/proxy (fake_service_proxy.cc): GET
  // /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH goes to an
  // address of the Service's Endpoints, as kube-apiserver resolves it.
  struct ProxyTarget {
    std::string scheme;  // http | https
    std::string host;
    std::uint16_t port = 0;
    std::string path;  // with the query
  };
  static bool isServiceProxyRequest(const FakeRequest& request);
  // Status 0 with `out` set: forward there. Otherwise the answer to send (401,
  // injected errors, 404 for the Service, 503 without an endpoint).
  FakeResponse resolveServiceProxy(const FakeRequest& request, ProxyTarget& out);
  // Everything but watches.
  FakeResponse handle(const FakeRequest& request);
  // Starts a watch: on an error, the response to send instead (status != 200).
  // Otherwise `lines` holds the first lines (synthetic ADDED at RV 0, or the
  // ERROR event for a too-old RV, after which the stream ends: `ended`).
  FakeResponse startWatch(const FakeRequest& request, Watch& watch, std::vector<std::string>& lines,
                          bool& ended);
  // Waits for the next lines of a watch (events, bookmarks) until its deadline.
  WaitResult nextLines(Watch& watch, std::vector<std::string>& lines,
                       std::chrono::milliseconds bookmarkInterval);
  // The BOOKMARK line at the watch's cursor.
  std::string bookmarkLine(Watch& watch);

  // Test hooks.
  void dropWatches();
  void compact();
  // Answers requests whose path starts with `pathPrefix` with `code` (403 or
  // 500 ...) `times` times (-1: until cleared); only for `method` when given.
  void injectError(const std::string& pathPrefix, int code, int times = -1,
                   const std::string& method = "");
  void clearInjectedErrors();
  void setRequiredToken(const std::string& token);  // empty: no authentication
  // From now on every request needs a bearer token of a user `rbac` knows
  // (401 otherwise) and is authorized by it (403 with the RBAC message).
  void setRbac(std::shared_ptr<FakeRbac> rbac);
  // What a TokenReview says of `token`: authenticated as `username` (e.g.
  // "system:serviceaccount:demo:web") for these audiences; unknown tokens fail.
  void addToken(const std::string& token, const std::string& username,
                std::vector<std::string> audiences);
  // What GET /version reports (default v1.26.1, the recorded server), e.g. "v1.30.2".
  void setServerVersion(const std::string& gitVersion);
  void stop();
  std::int64_t resourceVersion();
  std::size_t requestCount(const std::string& method, const std::string& pathPrefix);

 private:
  struct HistoryEvent {
    std::int64_t rv;
    const FakeKind* kind;
    std::string ns;
    std::string type;
    nlohmann::json object;
    nlohmann::json previous;  // MODIFIED: the state before, for selector watches
  };
  struct Target {
    const FakeKind* kind = nullptr;
    std::string ns;
    std::string name;
    std::string subresource;
    std::map<std::string, std::string> query;
  };
  struct Injected {
    int code;
    int times;
    std::string method;
  };

  bool parseTarget(const std::string& target, Target& out) const;
  FakeResponse checkAuthAndInjected(const FakeRequest& request, const Target& target);
  FakeResponse list(const Target& t);
  FakeResponse get(const Target& t);
  FakeResponse create(const Target& t, const FakeRequest& r);
  FakeResponse update(const Target& t, const FakeRequest& r);
  FakeResponse patch(const Target& t, const FakeRequest& r);
  FakeResponse remove(const Target& t);
  FakeResponse versionResponse() const;
  // /api, /apis, /api/v1, /apis/GROUP/VERSION for the kinds served (nullopt: not discovery).
  std::optional<FakeResponse> discovery(const std::string& path) const;
  FakeResponse tokenReview(const FakeRequest& r);
  // Stores `next` as the new state of an existing object (PUT and PATCH).
  FakeResponse write(const Target& t, const nlohmann::json& old, nlohmann::json next);
  void record(const FakeKind* kind, const std::string& ns, const std::string& type,
              const nlohmann::json& object, const nlohmann::json& previous = nullptr);
  std::map<std::string, nlohmann::json>& bucket(const FakeKind* kind);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<FakeKind> kinds_;
  // kind plural+group -> "ns/name" -> object
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::deque<HistoryEvent> history_;
  std::int64_t rv_ = 100;
  std::int64_t compactedRv_ = 100;  // watches and continue tokens before this get 410
  std::uint64_t dropGeneration_ = 0;
  std::uint64_t uidCounter_ = 0;
  bool stopped_ = false;
  std::string requiredToken_;
  std::shared_ptr<FakeRbac> rbac_;
  std::string gitVersion_ = "v1.26.1";
  std::map<std::string, Injected> injected_;
  struct TokenInfo {
    std::string username;
    std::vector<std::string> audiences;
  };
  std::map<std::string, TokenInfo> tokens_;
  std::vector<std::pair<std::string, std::string>> requestLog_;  // method, path
};

}  // namespace weft::testing
