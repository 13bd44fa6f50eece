// Discovery benchmark: weft-operator in local mode with N Services x M
// endpoints (and their Pods), K open streams over TLS on loopback; measures
// the operator's RSS and the time from an EndpointSlice file change to the
// update on every stream (p50/p99/max), and the same for a Mesh change that
// touches every Service. Bounded: each wait has a deadline.
//
//   operator_discovery_bench [services=1000] [endpoints=10] [streams=1000] [rounds=5]
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <unistd.h>

#include "common/asio.h"
// Asio first (common/asio.h), then Beast.
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/file.h"
#include "tests/operator/stream_client.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string sliceYaml(int svc, int endpoints, int skip) {
  std::string s = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-" +
                  std::to_string(svc) +
                  "-a\n  namespace: bench\n  labels: "
                  "{kubernetes.io/service-name: svc-" +
                  std::to_string(svc) +
                  "}\naddressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\n"
                  "endpoints:\n";
  for (int e = 0; e < endpoints; ++e) {
    if (e == skip) {
      continue;
    }
    // Data only: these addresses are never dialled.
    int n = svc * endpoints + e;
    s += "  - addresses: [10." + std::to_string((n >> 16) & 255) + "." +
         std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255) +
         "]\n    conditions: {ready: true}\n    targetRef: {kind: Pod, name: svc-" +
         std::to_string(svc) + "-" + std::to_string(e) + ", namespace: bench}\n";
  }
  return s;
}

std::string serviceFile(int svc, int endpoints, int skip) {
  std::string n = "svc-" + std::to_string(svc);
  std::string s = "apiVersion: v1\nkind: Service\nmetadata: {name: " + n +
                  ", namespace: bench}\nspec:\n  clusterIP: 10.96." + std::to_string(svc / 250) +
                  "." + std::to_string(svc % 250 + 1) + "\n  selector: {app: " + n +
                  "}\n  ports: [{name: http, port: 8080, targetPort: 8080}]\n---\n";
  for (int e = 0; e < endpoints; ++e) {
    s += "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + n + "-" + std::to_string(e) +
         "\n  namespace: bench\n  labels: {app: " + n +
         "}\n  annotations: {weft.io/injected: \"0.1.0\"}\nspec:\n  serviceAccountName: " + n +
         "\n  containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]\n---\n";
  }
  return s + sliceYaml(svc, endpoints, skip);
}

std::string meshFile(const std::string& request) {
  return "apiVersion: weft.io/v1alpha1\nkind: Mesh\nmetadata: {name: default}\nspec:\n  "
         "defaults: {timeouts: {request: " +
         request + "}}\n";
}

long rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

std::atomic<int> gFirsts{0};

struct Stream {
  std::string authority;
  std::vector<Clock::time_point> arrivals;  // one per document after the first
  bool opened = false;
  bool first = false;
  bool failed = false;
};

net::awaitable<void> runStream(net::io_context& io, ssl::context& ctx, std::uint16_t port,
                               Stream& st) {
  beast::ssl_stream<beast::tcp_stream> s(io, ctx);
  beast::error_code ec;
  co_await beast::get_lowest_layer(s).async_connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
      net::redirect_error(net::use_awaitable, ec));
  if (!ec) {
    co_await s.async_handshake(ssl::stream_base::client,
                               net::redirect_error(net::use_awaitable, ec));
  }
  http::request<http::empty_body> req{http::verb::get,
                                      "/v1/discovery/outbound?authority=" + st.authority, 11};
  req.set(http::field::host, "localhost");
  if (!ec) {
    co_await http::async_write(s, req, net::redirect_error(net::use_awaitable, ec));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  std::string pending;
  auto onChunk = [&](std::uint64_t, std::string_view body, beast::error_code&) {
    pending.append(body.data(), body.size());
    return body.size();
  };
  parser.on_chunk_body(onChunk);
  if (!ec) {
    co_await http::async_read_header(s, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
  }
  if (ec || parser.get().result_int() != 200) {
    st.failed = true;
    co_return;
  }
  st.opened = true;
  for (;;) {
    co_await http::async_read_some(s, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    std::size_t pos;
    while ((pos = pending.find('\n')) != std::string::npos) {
      pending.erase(0, pos + 1);
      if (!st.first) {
        st.first = true;
        gFirsts.fetch_add(1);
      } else {
        st.arrivals.push_back(Clock::now());
      }
    }
  }
}

// A metric's value from the operator's /metrics ("" when absent).
double metricValue(std::uint16_t port, const std::string& name) {
  auto m = weft::op::testing::httpGet(port, "/metrics");
  auto pos = m.body.find("\n" + name + " ");
  if (pos == std::string::npos) {
    return 0;
  }
  return std::stod(m.body.substr(pos + name.size() + 2));
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t n = 0;
};

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) {
    return p;
  }
  std::sort(v.begin(), v.end());
  p.n = v.size();
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  p.max = v.back();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  int services = argc > 1 ? std::atoi(argv[1]) : 1000;
  int endpoints = argc > 2 ? std::atoi(argv[2]) : 10;
  int streams = argc > 3 ? std::atoi(argv[3]) : 1000;
  int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  if (services < 1 || services > 20000 || endpoints < 2 || endpoints > 100 || streams < 1 ||
      streams > 5000 || rounds < 1 || rounds > 50) {
    std::fprintf(stderr,
                 "usage: %s [services<=20000] [endpoints 2..100] [streams<=5000] "
                 "[rounds<=50]\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  fs::path dir = fs::temp_directory_path() / ("weft-operator-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "m");
  auto genStart = Clock::now();
  for (int i = 0; i < services; ++i) {
    std::ofstream(dir / "m" / ("svc-" + std::to_string(i) + ".yaml"))
        << serviceFile(i, endpoints, -1);
  }
  std::ofstream(dir / "m" / "mesh.yaml") << meshFile("15s");
  std::printf("generated %d services x %d endpoints (+%d pods) in %.2f s\n", services, endpoints,
              services * endpoints, std::chrono::duration<double>(Clock::now() - genStart).count());

  auto started = Clock::now();
  weft::testing::Child op(
      {WEFT_OPERATOR_BIN, "--source", "dir:" + (dir / "m").string(), "--discovery-listen",
       "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--log-level", "info",
       // The bench's streams carry no workload certificate.
       "--discovery-client-auth", "optional"},
      (dir / "operator.log").string());
  std::uint16_t dport = 0, aport = 0;
  static const std::regex kD(R"(discovery API listening on .* \(port (\d+)\))");
  static const std::regex kA(R"(admin API listening on .* \(port (\d+)\))");
  auto deadline = Clock::now() + std::chrono::seconds(60);
  bool ready = false;
  while (Clock::now() < deadline && !ready) {
    auto text = weft::readFile((dir / "operator.log").string());
    std::smatch m;
    if (text.ok() && std::regex_search(*text, m, kD)) {
      dport = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    if (text.ok() && std::regex_search(*text, m, kA)) {
      aport = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    if (aport != 0) {
      ready = weft::op::testing::httpGet(aport, "/readyz").status == 200;
    }
    if (!op.running()) {
      std::fprintf(stderr, "operator exited\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ready) {
    std::fprintf(stderr, "operator not ready within 60 s\n");
    return 1;
  }
  std::printf("operator ready (everything read and rendered) after %.2f s; RSS %ld KiB\n",
              std::chrono::duration<double>(Clock::now() - started).count(), rssKiB(op.pid()));

  // Scenario 1: every stream on one Service; its EndpointSlice changes.
  // Scenario 2: streams spread over all Services; the Mesh changes (all documents).
  for (int scenario = 1; scenario <= 2; ++scenario) {
    gFirsts.store(0);
    net::io_context io(1);
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_none);  // the bench measures pushes, not PKI
    std::vector<Stream> all(static_cast<std::size_t>(streams));
    for (int i = 0; i < streams; ++i) {
      int svc = scenario == 1 ? 0 : i % services;
      all[static_cast<std::size_t>(i)].authority =
          "svc-" + std::to_string(svc) + ".bench.svc.cluster.local:8080";
      net::co_spawn(io, runStream(io, ctx, dport, all[static_cast<std::size_t>(i)]), net::detached);
    }
    std::thread runner([&] { io.run_for(std::chrono::seconds(120)); });
    auto countFirst = [] { return gFirsts.load(); };
    auto openDeadline = Clock::now() + std::chrono::seconds(60);
    // Results are read only after the io thread has stopped.
    while (countFirst() < streams && Clock::now() < openDeadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("scenario %d: %ld/%d streams got their first document; operator RSS %ld KiB\n",
                scenario, static_cast<long>(countFirst()), streams, rssKiB(op.pid()));
    double sum0 = metricValue(aport, "weft_operator_push_latency_seconds_sum");
    double count0 = metricValue(aport, "weft_operator_push_latency_seconds_count");
    std::vector<Clock::time_point> changes;
    for (int r = 0; r < rounds; ++r) {
      std::string text = scenario == 1 ? serviceFile(0, endpoints, r % 2 == 0 ? 0 : -1)
                                       : meshFile(std::to_string(16 + r) + "s");
      fs::path target = dir / "m" / (scenario == 1 ? "svc-0.yaml" : "mesh.yaml");
      fs::path tmp = dir / "m" / ".tmp";
      std::ofstream(tmp) << text;
      changes.push_back(Clock::now());
      fs::rename(tmp, target);
      std::this_thread::sleep_for(std::chrono::milliseconds(scenario == 1 ? 400 : 1500));
    }
    double pushes = metricValue(aport, "weft_operator_push_latency_seconds_count") - count0;
    double pushSum = metricValue(aport, "weft_operator_push_latency_seconds_sum") - sum0;
    io.stop();
    runner.join();
    std::vector<double> lat;
    std::size_t missing = 0;
    for (const auto& s : all) {
      for (std::size_t r = 0; r < changes.size(); ++r) {
        // The update for change r is the first arrival after it (and before the next change).
        auto it = std::find_if(s.arrivals.begin(), s.arrivals.end(),
                               [&](Clock::time_point t) { return t >= changes[r]; });
        if (it == s.arrivals.end() || (r + 1 < changes.size() && *it >= changes[r + 1])) {
          ++missing;
          continue;
        }
        lat.push_back(std::chrono::duration<double, std::milli>(*it - changes[r]).count());
      }
    }
    Percentiles p = percentiles(lat);
    std::printf(
        "scenario %d (%s): %zu updates measured, %zu missing; change -> update on the "
        "stream: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
        scenario,
        scenario == 1 ? "EndpointSlice change, all streams on one Service"
                      : "Mesh change, streams over all Services",
        p.n, missing, p.p50, p.p99, p.max);
    std::printf(
        "scenario %d: operator side, publish -> written on the stream: %.0f pushes, mean "
        "%.1f ms\n",
        scenario, pushes, pushes > 0 ? pushSum / pushes * 1000 : 0.0);
  }
  std::printf("operator RSS at the end: %ld KiB\n", rssKiB(op.pid()));
  auto metrics = weft::op::testing::httpGet(aport, "/metrics");
  for (const char* m :
       {"weft_operator_reconcile_duration_seconds_sum",
        "weft_operator_reconcile_duration_seconds_count", "weft_operator_push_latency_seconds_sum",
        "weft_operator_push_latency_seconds_count"}) {
    auto pos = metrics.body.find(std::string("\n") + m);
    if (pos != std::string::npos) {
      std::printf("%s\n",
                  metrics.body.substr(pos + 1, metrics.body.find('\n', pos + 1) - pos - 1).c_str());
    }
  }
  op.stop(SIGTERM);
  fs::remove_all(dir);
  return 0;
}
