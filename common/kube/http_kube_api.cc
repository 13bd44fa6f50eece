// HttpKubeApi on cpprestsdk. Every cpprestsdk exception is caught here and
// becomes an Error; callbacks never block (we only .get() on our own threads).
#include "common/kube/http_kube_api.h"

#include <cpprest/http_client.h>
#include <pplx/pplxtasks.h>

#include "common/kube/rate_limiter.h"

namespace weft::kube {
namespace {

namespace http = web::http;
namespace client = web::http::client;

// Installs the CA and client certificate into cpprestsdk's TLS context.
// Throws (boost::system::system_error) on bad PEM; create() checks first.
void configureTls(boost::asio::ssl::context& ctx, const KubeConfig& config) {
  if (!config.caPem.empty()) {
    ctx.add_certificate_authority(boost::asio::buffer(config.caPem));
  }
  if (!config.clientCertPem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(config.clientCertPem));
    ctx.use_private_key(boost::asio::buffer(config.clientKeyPem), boost::asio::ssl::context::pem);
  }
}

std::string patchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

std::string metaField(const Json& object, const char* field) {
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains(field) && object["metadata"][field].is_string()) {
    return object["metadata"][field].get<std::string>();
  }
  return "";
}

Result<WatchEventType> parseEventType(const std::string& type) {
  if (type == "ADDED") return WatchEventType::kAdded;
  if (type == "MODIFIED") return WatchEventType::kModified;
  if (type == "DELETED") return WatchEventType::kDeleted;
  if (type == "BOOKMARK") return WatchEventType::kBookmark;
  return makeError(ErrorCode::kParse, "unknown watch event type \"" + type + "\"");
}

struct Response {
  int status = 0;
  std::string body;
};

}  // namespace

struct HttpKubeApi::Impl {
  KubeConfig config;
  HttpKubeApiOptions options;
  BearerToken token;
  TokenBucket limiter;
  std::unique_ptr<client::http_client> client;

  Impl(const KubeConfig& c, const HttpKubeApiOptions& o)
      : config(c), options(o), token(c), limiter(o.qps, o.burst) {}

  client::http_client_config clientConfig(std::chrono::seconds timeout) const {
    client::http_client_config cc;
    cc.set_timeout(timeout);
    cc.set_validate_certificates(!config.insecureSkipTlsVerify);
    KubeConfig copy = config;
    cc.set_ssl_context_callback(
        [copy](boost::asio::ssl::context& ctx) { configureTls(ctx, copy); });
    return cc;
  }

  http::http_request makeRequest(const http::method& method, const std::string& pathAndQuery) {
    http::http_request req(method);
    req.set_request_uri(pathAndQuery);
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", options.userAgent);
    std::string bearer = token.get();
    if (!bearer.empty()) {
      req.headers().add("Authorization", "Bearer " + bearer);
    }
    return req;
  }

  Result<Response> send(http::http_request req) {
    limiter.acquire();
    try {
      auto resp = client->request(req).get();
      Response out;
      out.status = resp.status_code();
      out.body = resp.extract_utf8string(true).get();
      return out;
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kUnavailable,
                       "request to " + config.server + " failed: " + e.what());
    }
  }

  // Turns a response into the object it carries, or the typed error.
  static Result<Json> objectOf(const Result<Response>& resp) {
    if (!resp.ok()) {
      return resp.error();
    }
    if (resp->status >= 400) {
      return toError(kubeErrorFromBody(resp->status, resp->body));
    }
    auto parsed = json::parse(resp->body);
    if (!parsed.ok()) {
      return parsed.error().context("API response");
    }
    return parsed;
  }

  Result<Json> sendJson(const http::method& method, const std::string& path, const Json& body,
                        const std::string& contentType = "application/json") {
    auto req = makeRequest(method, path);
    req.set_body(json::dump(body), contentType);
    return objectOf(send(std::move(req)));
  }
};

HttpKubeApi::HttpKubeApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpKubeApi::~HttpKubeApi() = default;

Result<std::unique_ptr<HttpKubeApi>> HttpKubeApi::create(const KubeConfig& config,
                                                         const HttpKubeApiOptions& options) {
  if (config.server.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "kube config: no server");
  }
  try {
    // Fail now on bad PEM rather than on the first request.
    boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
    configureTls(probe, config);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string("kube config: bad certificate or key: ") + e.what());
  }
  auto impl = std::make_unique<Impl>(config, options);
  try {
    impl->client =
        std::make_unique<client::http_client>(utility::conversions::to_string_t(config.server),
                                              impl->clientConfig(options.requestTimeout));
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidArgument,
                     "kube config: bad server URL \"" + config.server + "\": " + e.what());
  }
  return std::unique_ptr<HttpKubeApi>(new HttpKubeApi(std::move(impl)));
}

Result<Json> HttpKubeApi::get(const Resource& resource, std::string_view ns,
                              std::string_view name) {
  return Impl::objectOf(
      impl_->send(impl_->makeRequest(http::methods::GET, resource.path(ns, name))));
}

Result<Json> HttpKubeApi::serverVersion() {
  auto body = Impl::objectOf(impl_->send(impl_->makeRequest(http::methods::GET, "/version")));
  if (body.ok() &&
      (!body->is_object() || !body->contains("gitVersion") || !(*body)["gitVersion"].is_string())) {
    return makeError(ErrorCode::kParse, "GET /version: answer without a gitVersion string");
  }
  return body;
}

Result<std::string> HttpKubeApi::getRaw(const std::string& pathAndQuery) {
  auto resp = impl_->send(impl_->makeRequest(http::methods::GET, pathAndQuery));
  if (!resp.ok()) {
    return resp.error();
  }
  if (resp->status < 200 || resp->status >= 300) {
    return toError(kubeErrorFromBody(resp->status, resp->body));
  }
  return std::move(resp->body);
}

Result<ObjectList> HttpKubeApi::list(const Resource& resource, std::string_view ns,
                                     const ListOptions& options) {
  std::string path = resource.path(ns);
  std::string query;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) {
      query += query.empty() ? "?" : "&";
      query += key;
      query += "=";
      query += encodeQuery(value);
    }
  };
  add("labelSelector", options.labelSelector);
  add("fieldSelector", options.fieldSelector);
  add("limit", options.limit > 0 ? std::to_string(options.limit) : "");
  add("continue", options.continueToken);
  add("resourceVersion", options.resourceVersion);
  auto body = Impl::objectOf(impl_->send(impl_->makeRequest(http::methods::GET, path + query)));
  if (!body.ok()) {
    return body.error();
  }
  ObjectList out;
  if (!body->is_object() || !body->contains("items") ||
      !((*body)["items"].is_array() || (*body)["items"].is_null())) {
    return makeError(ErrorCode::kParse, "list response without items");
  }
  if ((*body)["items"].is_array()) {
    out.items.reserve((*body)["items"].size());
    for (auto& item : (*body)["items"]) {
      // List items carry no apiVersion/kind for built-in types; add them so
      // cached objects look like what get and watch return.
      if (item.is_object()) {
        if (!item.contains("apiVersion")) item["apiVersion"] = resource.apiVersion();
        if (!item.contains("kind")) item["kind"] = resource.kind;
      }
      out.items.push_back(std::move(item));
    }
  }
  out.resourceVersion = metaField(*body, "resourceVersion");
  out.continueToken = metaField(*body, "continue");
  return out;
}

Result<void> HttpKubeApi::watch(const Resource& resource, std::string_view ns,
                                const WatchOptions& options,
                                const std::function<void(WatchEvent&&)>& onEvent,
                                StopSignal& stop) {
  std::string path = resource.path(ns) + "?watch=1";
  if (options.allowBookmarks) {
    path += "&allowWatchBookmarks=true";
  }
  if (!options.resourceVersion.empty()) {
    path += "&resourceVersion=" + encodeQuery(options.resourceVersion);
  }
  if (!options.labelSelector.empty()) {
    path += "&labelSelector=" + encodeQuery(options.labelSelector);
  }
  path += "&timeoutSeconds=" + std::to_string(std::max(1, options.timeoutSeconds));

  // The idle timer must outlast the server's own timeout; the server ends
  // the stream first, or a dead connection is noticed here.
  auto cts = std::make_shared<pplx::cancellation_token_source>();
  int subscription = stop.subscribe([cts] { cts->cancel(); });
  struct Unsubscribe {
    StopSignal& s;
    int id;
    ~Unsubscribe() { s.unsubscribe(id); }
  } unsubscribe{stop, subscription};
  if (stop.stopped()) {
    return okResult();
  }
  impl_->limiter.acquire();
  try {
    client::http_client watchClient(
        utility::conversions::to_string_t(impl_->config.server),
        impl_->clientConfig(std::chrono::seconds(options.timeoutSeconds + 30)));
    auto req = impl_->makeRequest(http::methods::GET, path);
    auto resp = watchClient.request(req, cts->get_token()).get();
    if (resp.status_code() >= 400) {
      return toError(kubeErrorFromBody(resp.status_code(), resp.extract_utf8string(true).get()));
    }
    auto body = resp.body();
    std::string pending;
    std::vector<char> buf(64 * 1024);
    constexpr std::size_t kMaxLine = 16u << 20;  // one object; the API's own limit is ~3 MiB
    for (;;) {
      if (stop.stopped()) {
        return okResult();
      }
      // istream::read(n) would wait for n bytes, and the body buffer only
      // hands out what it holds once asked for no more than that: wait for
      // one byte, then take everything already there.
      auto first = body.streambuf().bumpc().get();
      if (first == concurrency::streams::char_traits<std::uint8_t>::eof()) {
        return okResult();  // end of stream: the server's timeout
      }
      pending += static_cast<char>(first);
      std::size_t available = body.streambuf().in_avail();
      if (available > 0) {
        std::size_t n =
            body.streambuf()
                .getn(reinterpret_cast<std::uint8_t*>(buf.data()), std::min(available, buf.size()))
                .get();
        pending.append(buf.data(), n);
      }
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(pending.data() + start, nl - start);
        if (line.empty() || line == "\r") {
          continue;
        }
        auto event = json::parse(line);
        if (!event.ok() || !event->is_object() || !(*event)["type"].is_string()) {
          return makeError(ErrorCode::kParse, "watch: bad event line");
        }
        std::string type = (*event)["type"].get<std::string>();
        if (type == "ERROR") {
          const Json& status = (*event)["object"];
          int code =
              status.is_object() && status.contains("code") && status["code"].is_number_integer()
                  ? status["code"].get<int>()
                  : 500;
          return toError(kubeErrorFromBody(code, json::dump(status)));
        }
        auto parsedType = parseEventType(type);
        if (!parsedType.ok()) {
          return parsedType.error();
        }
        onEvent(WatchEvent{*parsedType, std::move((*event)["object"])});
      }
      pending.erase(0, start);
      if (pending.size() > kMaxLine) {
        return makeError(ErrorCode::kParse, "watch: event larger than 16 MiB");
      }
    }
  } catch (const pplx::task_canceled&) {
    return okResult();
  } catch (const std::exception& e) {
    if (stop.stopped()) {
      return okResult();
    }
    return makeError(ErrorCode::kUnavailable, std::string("watch: ") + e.what());
  }
}

Result<Json> HttpKubeApi::create(const Resource& resource, std::string_view ns,
                                 const Json& object) {
  return impl_->sendJson(http::methods::POST, resource.path(ns), object);
}

Result<Json> HttpKubeApi::update(const Resource& resource, const Json& object,
                                 std::string_view subresource) {
  std::string name = metaField(object, "name");
  if (name.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "update: object has no metadata.name");
  }
  return impl_->sendJson(http::methods::PUT,
                         resource.path(metaField(object, "namespace"), name, subresource), object);
}

Result<Json> HttpKubeApi::patch(const Resource& resource, std::string_view ns,
                                std::string_view name, PatchType type, const Json& patch,
                                std::string_view subresource) {
  return impl_->sendJson(http::methods::PATCH, resource.path(ns, name, subresource), patch,
                         patchContentType(type));
}

Result<void> HttpKubeApi::remove(const Resource& resource, std::string_view ns,
                                 std::string_view name) {
  auto result =
      Impl::objectOf(impl_->send(impl_->makeRequest(http::methods::DEL, resource.path(ns, name))));
  if (!result.ok()) {
    return result.error();
  }
  return okResult();
}

}  // namespace weft::kube
