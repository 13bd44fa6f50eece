// services/proxy in the fake kube-apiserver: the Service and Endpoints
// lookup of kube-apiserver's ResourceLocation, then one forwarded request.
#include "tests/fakes/fake_service_proxy.h"

#include <charconv>
#include <optional>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/asio.h"

namespace weft::testing {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr const char* kPrefix = "/api/v1/namespaces/";

// A Status body with the real key order.
FakeResponse status(int code, const std::string& reason, const std::string& message,
                    const std::string& name = "") {
  OJson s;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = OJson::object();
  s["status"] = "Failure";
  s["message"] = message;
  s["reason"] = reason;
  if (!name.empty()) {
    s["details"] = {{"name", name}, {"kind", "services"}};
  }
  s["code"] = code;
  return FakeResponse{code, "application/json", s.dump()};
}

struct ProxyPath {
  std::string ns;
  std::string scheme;
  std::string name;
  std::string port;  // a number, a port name, or empty
  std::string rest;  // "/healthz?x=1"
};

// /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy[/REST]
bool parseProxyPath(const std::string& target, ProxyPath& out) {
  if (target.rfind(kPrefix, 0) != 0) {
    return false;
  }
  std::size_t nsEnd = target.find('/', std::char_traits<char>::length(kPrefix));
  if (nsEnd == std::string::npos || target.compare(nsEnd, 10, "/services/") != 0) {
    return false;
  }
  out.ns = target.substr(std::char_traits<char>::length(kPrefix),
                         nsEnd - std::char_traits<char>::length(kPrefix));
  std::size_t idStart = nsEnd + 10;
  std::size_t idEnd = target.find('/', idStart);
  if (idEnd == std::string::npos || target.compare(idEnd, 6, "/proxy") != 0 ||
      (target.size() > idEnd + 6 && target[idEnd + 6] != '/' && target[idEnd + 6] != '?')) {
    return false;
  }
  std::string id = target.substr(idStart, idEnd - idStart);
  out.rest = target.substr(idEnd + 6);
  if (out.rest.empty() || out.rest[0] == '?') {
    out.rest = "/" + out.rest;
  }
  // Like utilnet.SplitSchemeNamePort: name, name:port or scheme:name:port.
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t colon = id.find(':', start);
    parts.push_back(id.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) {
      break;
    }
    start = colon + 1;
  }
  if (parts.size() == 1) {
    out.name = parts[0];
  } else if (parts.size() == 2) {
    out.name = parts[0];
    out.port = parts[1];
  } else if (parts.size() == 3 && (parts[0] == "http" || parts[0] == "https")) {
    out.scheme = parts[0];
    out.name = parts[1];
    out.port = parts[2];
  } else {
    return false;
  }
  return !out.ns.empty() && !out.name.empty();
}

asio::awaitable<void> exchange(const FakeApiState::ProxyTarget& t, const FakeRequest& request,
                               std::optional<FakeResponse>& out) {
  std::string where = t.host + ":" + std::to_string(t.port);
  auto unreachable = [&](const boost::system::error_code& ec) {
    return status(503, "ServiceUnavailable",
                  "error trying to reach service: dial tcp " + where + ": " + ec.message());
  };
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(t.host, ec), t.port);
  if (ec) {
    out = unreachable(ec);
    co_return;
  }
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(executor, ctx);
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(std::chrono::seconds(5));
  co_await socket.async_connect(endpoint, ecTok(ec));
  if (!ec && t.scheme == "https") {
    co_await stream.async_handshake(ssl::stream_base::client, ecTok(ec));
  }
  if (ec) {
    out = unreachable(ec);
    co_return;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), t.path, 11};
  req.set(bhttp::field::host, where);
  req.body() = request.body;
  req.keep_alive(false);
  req.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  if (t.scheme == "https") {
    co_await bhttp::async_write(stream, req, ecTok(ec));
    if (!ec) {
      co_await bhttp::async_read(stream, buffer, res, ecTok(ec));
    }
  } else {
    co_await bhttp::async_write(socket, req, ecTok(ec));
    if (!ec) {
      co_await bhttp::async_read(socket, buffer, res, ecTok(ec));
    }
  }
  if (ec) {
    out = unreachable(ec);
    co_return;
  }
  out = FakeResponse{static_cast<int>(res.result_int()),
                     std::string(res[bhttp::field::content_type]), res.body()};
}

}  // namespace

bool FakeApiState::isServiceProxyRequest(const FakeRequest& request) {
  ProxyPath path;
  return parseProxyPath(request.target, path);
}

FakeResponse FakeApiState::resolveServiceProxy(const FakeRequest& request, ProxyTarget& out) {
  ProxyPath p;
  if (!parseProxyPath(request.target, p)) {
    return FakeResponse{404, "text/plain; charset=utf-8", "404 page not found\n"};
  }
  std::lock_guard lock(mu_);
  const FakeKind* services = nullptr;
  for (const auto& k : kinds_) {
    if (k.group.empty() && k.plural == "services") {
      services = &k;
    }
  }
  Target t{services, p.ns, p.name, "proxy", {}};
  if (auto denied = checkAuthAndInjected(request, t); denied.status != 0) {
    return denied;
  }
  auto& svcs = objects_["/services"];
  auto svc = svcs.find(p.ns + "/" + p.name);
  if (svc == svcs.end()) {
    return status(404, "NotFound", "services \"" + p.name + "\" not found", p.name);
  }
  // A port number names the Service port; its name picks the endpoint port.
  std::string portName = p.port;
  int number = 0;
  auto [end, ec] = std::from_chars(p.port.data(), p.port.data() + p.port.size(), number);
  if (!p.port.empty() && ec == std::errc() && end == p.port.data() + p.port.size()) {
    bool found = false;
    for (const auto& sp : svc->second.value("spec", Json::object()).value("ports", Json::array())) {
      if (sp.value("port", 0) == number) {
        portName = sp.value("name", "");
        found = true;
        break;
      }
    }
    if (!found) {
      return status(503, "ServiceUnavailable",
                    "no service port " + p.port + " found for service \"" + p.name + "\"");
    }
  }
  auto& eps = objects_["/endpoints"];
  auto ep = eps.find(p.ns + "/" + p.name);
  if (ep == eps.end()) {
    return status(404, "NotFound", "endpoints \"" + p.name + "\" not found", p.name);
  }
  for (const auto& subset : ep->second.value("subsets", Json::array())) {
    auto addresses = subset.value("addresses", Json::array());
    for (const auto& port : subset.value("ports", Json::array())) {
      if (port.value("name", "") == portName && !addresses.empty()) {
        out.scheme = p.scheme.empty() ? "http" : p.scheme;
        out.host = addresses[0].value("ip", "");
        out.port = static_cast<std::uint16_t>(port.value("port", 0));
        out.path = p.rest;
        return FakeResponse{0, "", ""};
      }
    }
  }
  return status(503, "ServiceUnavailable", "no endpoints available for service \"" + p.name + "\"");
}

FakeResponse forwardServiceProxy(const FakeApiState::ProxyTarget& target,
                                 const FakeRequest& request) {
  asio::io_context io;
  std::optional<FakeResponse> out;
  asio::co_spawn(io, exchange(target, request, out), [](std::exception_ptr) {});
  io.run_for(std::chrono::seconds(10));
  if (!out) {
    return status(503, "ServiceUnavailable", "error trying to reach service: timeout");
  }
  return *out;
}

}  // namespace weft::testing
