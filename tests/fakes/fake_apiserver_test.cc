// The fake API server answers like the recorded kube-apiserver: Status bodies
// byte for byte, list pages, watch framing and event shapes, 410s.
#include "tests/fakes/fake_apiserver.h"

#include <regex>
#include <set>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "common/asio.h"
#include "common/file.h"
#include "common/json/json.h"

namespace weft::testing {
namespace {

using Json = nlohmann::json;
namespace bhttp = boost::beast::http;

std::string fixture(const std::string& name) {
  auto text = readFile("tests/fixtures/k8s/" + name);
  EXPECT_TRUE(text.ok()) << name;
  std::string out = text.valueOr("");
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

// The set of keys at every level, for comparing shapes.
std::set<std::string> shape(const Json& j, const std::string& prefix = "") {
  std::set<std::string> out;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      out.insert(prefix + "/" + it.key());
      auto sub = shape(it.value(), prefix + "/" + it.key());
      out.insert(sub.begin(), sub.end());
    }
  }
  return out;
}

// Sends one request over a real socket and returns the raw response bytes.
std::string rawRequest(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& contentType = "") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) {
    req += "Content-Type: " + contentType + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  }
  req += "\r\n" + body;
  boost::asio::write(socket, boost::asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(out), ec);
  return out;
}

class FakeApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeApiServerOptions options;
    options.bookmarkInterval = std::chrono::milliseconds(200);
    auto s = FakeApiServer::start(options);
    ASSERT_TRUE(s.ok()) << s.error().describe();
    server_ = std::move(*s);
  }
  FakeResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& type = "application/json") {
    return server_->state().handle(FakeRequest{method, target, body, type, ""});
  }
  Json createWidget(const std::string& name, int size) {
    auto r = call("POST", kWidgets,
                  Json{{"apiVersion", "testbed.example.com/v1"},
                       {"kind", "Widget"},
                       {"metadata", {{"name", name}}},
                       {"spec", {{"size", size}}}}
                      .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json::parse(r.body);
  }
  static constexpr const char* kWidgets =
      "/apis/testbed.example.com/v1/namespaces/fixtures/widgets";
  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(FakeApiServerTest, StatusBodiesMatchTheRecordingsByteForByte) {
  createWidget("hooked", 2);
  std::string path = std::string(kWidgets) + "/hooked";
  auto stale = call(
      "PUT", path,
      R"({"apiVersion":"testbed.example.com/v1","kind":"Widget","metadata":{"name":"hooked","namespace":"fixtures","resourceVersion":"1"},"spec":{"size":6}})");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body, fixture("error-409-conflict-stale-rv.json"));

  auto exists = call("POST", kWidgets, R"({"metadata":{"name":"hooked"},"spec":{"size":1}})");
  EXPECT_EQ(exists.status, 409);
  EXPECT_EQ(exists.body, fixture("error-409-already-exists.json"));

  auto missing = call("GET", std::string(kWidgets) + "/does-not-exist");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, fixture("error-404-cr-not-found.json"));

  auto pod = call("GET", "/api/v1/namespaces/fixtures/pods/nope");
  EXPECT_EQ(pod.status, 404);
  EXPECT_EQ(pod.body, fixture("error-404-pod-not-found.json"));

  auto media = call("PATCH", path, R"({"spec":{"size":3}})", "application/yaml");
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(media.body, fixture("error-415-unsupported-patch-type.json"));

  auto method = call("DELETE", path + "/status");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.body, fixture("error-405-method-not-allowed.json"));

  server_->state().compact();
  auto exact = call("GET", std::string(kWidgets) + "?resourceVersion=1&resourceVersionMatch=Exact");
  EXPECT_EQ(exact.status, 410);
  EXPECT_EQ(exact.body, fixture("error-410-list-exact-rv-compacted.json"));

  server_->state().setRequiredToken("secret");
  auto unauth = call("GET", "/api/v1/namespaces");
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(unauth.body, fixture("error-401-bad-token.json"));
}

TEST_F(FakeApiServerTest, InjectedForbiddenLooksLikeRbac) {
  server_->state().injectError(kWidgets, 403, 1);
  auto denied = call("GET", kWidgets);
  EXPECT_EQ(denied.status, 403);
  auto got = Json::parse(denied.body);
  auto want = Json::parse(fixture("error-403-rbac-list-widgets.json"));
  EXPECT_EQ(shape(got), shape(want));
  EXPECT_EQ(got["reason"], "Forbidden");
  EXPECT_NE(got["message"].get<std::string>().find("cannot list resource \"widgets\" in API group "
                                                   "\"testbed.example.com\" in the namespace "
                                                   "\"fixtures\""),
            std::string::npos);
  EXPECT_EQ(call("GET", kWidgets).status, 200);  // only once
}

TEST_F(FakeApiServerTest, MissingNameIs422Invalid) {
  auto r = call("POST", kWidgets, R"({"spec":{"size":1}})");
  EXPECT_EQ(r.status, 422);
  auto body = Json::parse(r.body);
  auto want = shape(Json::parse(fixture("error-422-missing-required.json")));
  want.erase("/details/name");  // there is no name to report
  EXPECT_EQ(shape(body), want);
  EXPECT_EQ(body["reason"], "Invalid");
  EXPECT_EQ(body["details"]["causes"][0]["field"], "metadata.name");
}

TEST_F(FakeApiServerTest, ListPagesCarryContinueTokensLikeTheRecording) {
  for (auto name : {"hooked", "page-a", "page-b", "page-c"}) {
    createWidget(name, 1);
  }
  std::vector<std::string> names;
  std::string token;
  std::string listRv;
  for (int page = 0; page < 10; ++page) {
    auto r = call("GET",
                  std::string(kWidgets) + "?limit=1" + (token.empty() ? "" : "&continue=" + token));
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = Json::parse(r.body);
    ASSERT_EQ(body["items"].size(), 1u);
    names.push_back(body["items"][0]["metadata"]["name"]);
    if (listRv.empty()) {
      listRv = body["metadata"]["resourceVersion"];
      EXPECT_EQ(shape(body["metadata"]),
                shape(Json::parse(fixture("list-page-1.json"))["metadata"]));
      EXPECT_EQ(body["metadata"]["remainingItemCount"], 3);
    }
    EXPECT_EQ(body["metadata"]["resourceVersion"], listRv);  // one consistent RV for all pages
    EXPECT_EQ(body["kind"], "WidgetList");
    token = body["metadata"].value("continue", "");
    if (token.empty()) {
      EXPECT_EQ(shape(body), shape(Json::parse(fixture("list-page-4.json"))));
      break;
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"hooked", "page-a", "page-b", "page-c"}));
}

TEST_F(FakeApiServerTest, ExpiredContinueTokenIs410LikeTheRecording) {
  createWidget("hooked", 1);
  createWidget("page-a", 1);
  auto first = Json::parse(call("GET", std::string(kWidgets) + "?limit=1").body);
  std::string token = first["metadata"]["continue"];
  server_->state().compact();
  createWidget("after", 1);
  auto r = call("GET", std::string(kWidgets) + "?limit=1&continue=" + token);
  EXPECT_EQ(r.status, 410);
  // Same start key as the recording, so the whole body matches.
  EXPECT_EQ(r.body, fixture("error-410-expired-continue-token.json"));
}

TEST_F(FakeApiServerTest, DeleteOfACustomResourceAnswersAStatus) {
  createWidget("watched", 1);
  auto r = call("DELETE", std::string(kWidgets) + "/watched");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(shape(Json::parse(r.body)), shape(Json::parse(fixture("widget-delete-response.json"))));
}

TEST_F(FakeApiServerTest, TooOldWatchGets200ThenOneExpiredErrorEvent) {
  std::string raw =
      rawRequest(server_->port(), "GET", std::string(kWidgets) + "?watch=1&resourceVersion=1");
  std::string want = fixture("watch-widgets-too-old-rv.http1.raw");
  auto body = [](const std::string& http) {
    auto start = http.find("\r\n\r\n");
    return http.substr(start + 4);
  };
  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  EXPECT_NE(raw.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  // The body differs only in the oldest RV the server still has.
  std::regex oldest(R"(\((\d+)\))");
  EXPECT_EQ(std::regex_replace(body(raw), oldest, "(N)"),
            std::regex_replace(body(want) + "\n", oldest, "(N)").substr(0, body(raw).size()));
  EXPECT_NE(
      raw.find(
          R"x({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (100)","reason":"Expired","code":410}})x"),
      std::string::npos);
  EXPECT_EQ(raw.substr(raw.size() - 5), "0\r\n\r\n");
}

TEST_F(FakeApiServerTest, WatchStreamsTheRecordedSequence) {
  auto list = Json::parse(call("GET", kWidgets).body);
  std::string rv = list["metadata"]["resourceVersion"];
  std::string raw;
  std::thread watcher([&] {
    raw = rawRequest(server_->port(), "GET",
                     std::string(kWidgets) + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                         rv + "&timeoutSeconds=1");
  });
  createWidget("watched", 1);
  std::string path = std::string(kWidgets) + "/watched";
  ASSERT_EQ(call("PATCH", path, R"({"spec":{"size":4}})", "application/merge-patch+json").status,
            200);
  ASSERT_EQ(
      call("PATCH", path + "/status", R"({"status":{"phase":"Ready","observedGeneration":2}})",
           "application/merge-patch+json")
          .status,
      200);
  ASSERT_EQ(call("DELETE", path).status, 200);
  watcher.join();

  // De-chunk and compare each event with the recording.
  std::vector<Json> got;
  std::string body = raw.substr(raw.find("\r\n\r\n") + 4);
  for (std::size_t pos = 0; pos < body.size();) {
    auto lineEnd = body.find("\r\n", pos);
    ASSERT_NE(lineEnd, std::string::npos);
    std::size_t size = std::stoul(body.substr(pos, lineEnd - pos), nullptr, 16);
    if (size == 0) {
      break;
    }
    std::string chunk = body.substr(lineEnd + 2, size);
    ASSERT_EQ(chunk.back(), '\n');
    got.push_back(Json::parse(chunk));
    pos = lineEnd + 2 + size + 2;
  }
  std::vector<Json> want;
  for (const auto& line : [&] {
         std::vector<std::string> lines;
         std::string all = fixture("watch-widgets.jsonl");
         std::size_t s = 0;
         for (std::size_t nl; (nl = all.find('\n', s)) != std::string::npos; s = nl + 1) {
           lines.push_back(all.substr(s, nl - s));
         }
         lines.push_back(all.substr(s));
         return lines;
       }()) {
    want.push_back(Json::parse(line));
  }
  ASSERT_GE(got.size(), 5u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i]["type"], want[i]["type"]) << i;
    EXPECT_EQ(got[i]["object"]["metadata"]["generation"],
              want[i]["object"]["metadata"]["generation"])
        << i;
    EXPECT_GT(std::stoll(got[i]["object"]["metadata"]["resourceVersion"].get<std::string>()),
              std::stoll(rv));
  }
  EXPECT_EQ(got[2]["object"]["status"]["phase"], "Ready");
  EXPECT_EQ(got.back()["type"], "BOOKMARK");
  EXPECT_EQ(shape(got.back()), shape(want.back()));
  EXPECT_EQ(got.back()["object"]["metadata"]["resourceVersion"],
            got[3]["object"]["metadata"]["resourceVersion"]);
  EXPECT_NE(raw.find("Transfer-Encoding: chunked"), std::string::npos);
}

TEST_F(FakeApiServerTest, UnknownGroupIsAPlainTextNotFound) {
  auto r = call("GET", "/apis/nope.example.com/v1/things");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
}

TEST_F(FakeApiServerTest, VersionIsTheRecordedBodyAndFollowsTheHook) {
  auto recorded = call("GET", "/version");
  EXPECT_EQ(recorded.status, 200);
  EXPECT_EQ(recorded.body, fixture("version.json"));
  server_->state().setServerVersion("v1.29.3-eks-1");
  auto managed = Json::parse(call("GET", "/version?timeout=32s").body);
  EXPECT_EQ(managed["gitVersion"], "v1.29.3-eks-1");
  EXPECT_EQ(managed["major"], "1");
  EXPECT_EQ(managed["minor"], "29+");
  EXPECT_EQ(call("POST", "/version", "{}").status, 405);
}

TEST_F(FakeApiServerTest, GenerationMovesOnSpecChangesOnly) {
  auto created = createWidget("g", 1);
  std::string path = std::string(kWidgets) + "/g";
  auto labels = Json::parse(
      call("PATCH", path, R"({"metadata":{"labels":{"a":"b"}}})", "application/merge-patch+json")
          .body);
  EXPECT_EQ(labels["metadata"]["generation"], 1);
  auto jsonPatched =
      Json::parse(call("PATCH", path, R"([{"op":"replace","path":"/spec/size","value":7}])",
                       "application/json-patch+json")
                      .body);
  EXPECT_EQ(jsonPatched["metadata"]["generation"], 2);
  EXPECT_EQ(jsonPatched["spec"]["size"], 7);
  // Status sent to the main resource is ignored; /status changes status only.
  jsonPatched["status"] = {{"phase", "X"}};
  jsonPatched["spec"]["size"] = 8;
  auto put = Json::parse(call("PUT", path, jsonPatched.dump()).body);
  EXPECT_EQ(put["metadata"]["generation"], 3);
  EXPECT_FALSE(put.contains("status"));
  put["status"] = {{"phase", "Y"}};
  put["spec"]["size"] = 9;
  auto status = Json::parse(call("PUT", path + "/status", put.dump()).body);
  EXPECT_EQ(status["metadata"]["generation"], 3);
  EXPECT_EQ(status["spec"]["size"], 8);
  EXPECT_EQ(status["status"]["phase"], "Y");
}

TEST_F(FakeApiServerTest, LabelSelectorFiltersLists) {
  for (auto [name, tier] : {std::pair{"a", "web"}, {"b", "db"}, {"c", "web"}}) {
    auto r = call("POST", "/api/v1/namespaces/n/services",
                  Json{{"metadata", {{"name", name}, {"labels", {{"tier", tier}}}}}}.dump());
    ASSERT_EQ(r.status, 201);
  }
  auto web =
      Json::parse(call("GET", "/api/v1/namespaces/n/services?labelSelector=tier%3Dweb").body);
  EXPECT_EQ(web["items"].size(), 2u);
  auto notWeb = Json::parse(call("GET", "/api/v1/services?labelSelector=tier!%3Dweb").body);
  ASSERT_EQ(notWeb["items"].size(), 1u);
  EXPECT_EQ(notWeb["items"][0]["metadata"]["name"], "b");
  EXPECT_EQ(
      shape(Json::parse(call("GET", "/apis/discovery.k8s.io/v1/namespaces/x/endpointslices").body)),
      shape(Json::parse(fixture("endpointslice-list-before-watch.json"))));
}

TEST_F(FakeApiServerTest, SelectorWatchSeesObjectsEnterAndLeave) {
  std::string path = "/apis/discovery.k8s.io/v1/namespaces/fixtures/endpointslices";
  std::string selector = "labelSelector=kubernetes.io%2Fservice-name%3Dweb";
  auto list = Json::parse(call("GET", path + "?" + selector).body);
  std::string rv = list["metadata"]["resourceVersion"];
  auto label = [](const std::string& service) {
    return Json{{"metadata", {{"labels", {{"kubernetes.io/service-name", service}}}}}}.dump();
  };
  std::string merge = "application/merge-patch+json";
  ASSERT_EQ(call("POST", path, R"({"metadata":{"name":"s"}})").status, 201);
  ASSERT_EQ(call("PATCH", path + "/s", label("web"), merge).status, 200);
  ASSERT_EQ(call("PATCH", path + "/s", R"({"endpoints":[]})", merge).status, 200);
  ASSERT_EQ(call("PATCH", path + "/s", label("db"), merge).status, 200);
  std::string raw =
      rawRequest(server_->port(), "GET",
                 path + "?watch=1&" + selector + "&resourceVersion=" + rv + "&timeoutSeconds=0");
  std::vector<std::string> types;
  std::regex type(R"x("type":"([A-Z]+)")x");
  for (std::sregex_iterator it(raw.begin(), raw.end(), type), end; it != end; ++it) {
    types.push_back((*it)[1]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
}

}  // namespace
}  // namespace weft::testing
