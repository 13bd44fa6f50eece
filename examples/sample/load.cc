// weft-sample load: worker threads with one keep-alive client each, sharing a
// request counter (and, at a fixed rate, a schedule).
#include "examples/sample/load.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/json/json.h"
#include "examples/sample/client.h"

namespace weft::sample {
namespace {

using std::chrono::milliseconds;

constexpr unsigned kMaxConcurrency = 1000;
constexpr double kMaxRate = 1e6;
constexpr std::uint64_t kMaxRequests = 1'000'000'000;
constexpr milliseconds kMaxDuration = std::chrono::hours(24);
constexpr milliseconds kMaxTimeout = std::chrono::minutes(5);
constexpr milliseconds kFailurePause{10};

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything the workers share; stats under the mutex (a few thousand
// requests per second contend little).
struct Run {
  Run(const LoadOptions& o, std::vector<Address> a, int stop)
      : options(o), addresses(std::move(a)), stopFd(stop), start(Clock::now()) {}

  const LoadOptions& options;
  std::vector<Address> addresses;
  int stopFd;
  Clock::time_point start;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> interrupted{false};
  std::mutex mu;
  std::condition_variable changed;
  unsigned running = 0;
  LoadStats total;
  LoadStats interval;
};

void record(Run& run, const Exchange& ex, std::chrono::microseconds latency) {
  LoadStats one;
  one.total = 1;
  if (ex.io != Io::kOk) {
    one.byError[toString(ex.io)] = 1;
  } else {
    const Response& r = ex.response;
    one.ok = r.status >= 200 && r.status < 300 ? 1 : 0;
    one.byStatus[r.status] = 1;
    one.latency.record(latency);
    if (auto v = r.headers.get("x-sample-version"); !v.empty()) {
      one.versions[v] = 1;
    }
    if (auto v = r.headers.get("x-sample-upstream-version"); !v.empty()) {
      one.upstreamVersions[v] = 1;
    }
  }
  std::lock_guard lock(run.mu);
  run.total.merge(one);
  run.interval.merge(one);
}

void worker(Run& run) {
  const LoadOptions& o = run.options;
  HttpClient client(run.addresses, o.host.empty() ? o.url.authority : o.host);
  const Clock::time_point end =
      o.duration.count() > 0 ? run.start + o.duration : Clock::time_point::max();
  for (;;) {
    std::uint64_t k = run.next.fetch_add(1);
    if (o.requests > 0 && k >= o.requests) {
      break;
    }
    // Open loop: request k is due at start + k/rate whether or not earlier
    // ones were answered, and its latency counts from then (no coordinated omission).
    Clock::time_point due = Clock::now();
    if (o.rate > 0) {
      due = run.start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(k) / o.rate));
    }
    if (due >= end) {
      break;
    }
    if (!sleepUntil(due, run.stopFd) || stopRequested(run.stopFd)) {
      run.interrupted = true;
      break;
    }
    Exchange ex = client.get(o.url.target, {}, Clock::now() + o.timeout);
    record(run, ex, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - due));
    if (o.rate == 0 && ex.io != Io::kOk && ex.io != Io::kTimeout) {
      // Closed loop against a dead server: count the failure, but do not spin on connect.
      sleepUntil(Clock::now() + kFailurePause, run.stopFd);
    }
  }
  std::lock_guard lock(run.mu);
  --run.running;
  run.changed.notify_all();
}

std::string tally(const std::map<std::string, std::uint64_t>& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k, v);
  }
  return out;
}

// "HTTP 503 x7, connect_refused x2"; "" when nothing failed.
std::string failures(const LoadStats& s) {
  std::string out;
  for (const auto& [code, n] : s.byStatus) {
    if (code < 200 || code >= 300) {
      out += fmt::format("{}HTTP {} x{}", out.empty() ? "" : ", ", code, n);
    }
  }
  for (const auto& [error, n] : s.byError) {
    out += fmt::format("{}{} x{}", out.empty() ? "" : ", ", error, n);
  }
  return out;
}

}  // namespace

Result<void> validate(const LoadOptions& o) {
  auto bad = [](const std::string& m) { return makeError(ErrorCode::kInvalidArgument, m); };
  if (o.requests == 0 && o.duration.count() == 0) {
    return bad("a bound is required: --requests N or --duration D");
  }
  if (o.requests > 0 && o.duration.count() > 0) {
    return bad("--requests and --duration are alternatives; give one");
  }
  if (o.requests > kMaxRequests) {
    return bad(fmt::format("--requests: at most {}", kMaxRequests));
  }
  if (o.duration > kMaxDuration) {
    return bad("--duration: at most 24h");
  }
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    return bad(fmt::format("--concurrency: from 1 to {}", kMaxConcurrency));
  }
  if (!(o.rate >= 0) || o.rate > kMaxRate) {
    return bad(fmt::format("--rate: from 0 (as fast as possible) to {}", kMaxRate));
  }
  if (o.timeout.count() <= 0 || o.timeout > kMaxTimeout) {
    return bad("--timeout: more than 0, at most 5m");
  }
  if (o.interval.count() < 0 || (o.interval.count() > 0 && o.interval < milliseconds(100))) {
    return bad("--interval: at least 100ms");
  }
  return okResult();
}

void LoadStats::merge(const LoadStats& other) {
  total += other.total;
  ok += other.ok;
  for (const auto& [k, v] : other.byStatus) {
    byStatus[k] += v;
  }
  for (const auto& [k, v] : other.byError) {
    byError[k] += v;
  }
  for (const auto& [k, v] : other.versions) {
    versions[k] += v;
  }
  for (const auto& [k, v] : other.upstreamVersions) {
    upstreamVersions[k] += v;
  }
  latency.merge(other.latency);
}

Result<LoadReport> runLoad(const LoadOptions& options, int stopFd, std::ostream& progress) {
  if (auto v = validate(options); !v) {
    return v.error();
  }
  auto addresses = resolve(options.url.hostPort);
  if (!addresses) {
    return addresses.error();
  }
  Run run(options, std::move(*addresses), stopFd);
  std::vector<std::thread> threads;
  run.running = options.concurrency;
  for (unsigned i = 0; i < options.concurrency; ++i) {
    threads.emplace_back([&run] { worker(run); });
  }
  {
    std::unique_lock lock(run.mu);
    auto tick = run.start;
    while (run.running > 0) {
      if (options.interval.count() == 0) {
        run.changed.wait(lock);
        continue;
      }
      tick += options.interval;
      if (!run.changed.wait_until(lock, tick, [&] { return run.running == 0; })) {
        progress << formatInterval(secondsSince(run.start),
                                   std::chrono::duration<double>(options.interval).count(),
                                   run.interval)
                 << std::endl;
        run.interval = LoadStats();
      }
    }
  }
  for (auto& t : threads) {
    t.join();
  }
  LoadReport report;
  report.stats = std::move(run.total);
  report.seconds = secondsSince(run.start);
  report.interrupted = run.interrupted;
  return report;
}

std::string formatInterval(double at, double seconds, const LoadStats& s) {
  std::string line =
      fmt::format("{:7.1f}s  {:8.1f} req/s  ok {}", at, static_cast<double>(s.total) / seconds,
                  s.total == 0 ? "    -" : fmt::format("{:5.1f}%", 100.0 * s.ok / s.total));
  if (s.latency.count() > 0) {
    line += fmt::format("  p50 {:.1f}ms  p99 {:.1f}ms", s.latency.quantileMs(0.5),
                        s.latency.quantileMs(0.99));
  }
  if (!s.versions.empty()) {
    line += "  versions " + tally(s.versions);
  }
  if (!s.upstreamVersions.empty()) {
    line += "  upstream " + tally(s.upstreamVersions);
  }
  if (auto f = failures(s); !f.empty()) {
    line += "  failed " + f;
  }
  return line;
}

std::string formatSummary(const LoadReport& r) {
  const LoadStats& s = r.stats;
  std::string out =
      fmt::format("requests  {} in {:.1f}s ({:.1f}/s){}\n", s.total, r.seconds,
                  r.seconds > 0 ? s.total / r.seconds : 0.0, r.interrupted ? ", interrupted" : "");
  out += fmt::format("ok        {} ({:.1f}%)\n", s.ok, s.total == 0 ? 0.0 : 100.0 * s.ok / s.total);
  auto f = failures(s);
  out += fmt::format("failed    {}{}\n", s.failed(), f.empty() ? "" : ": " + f);
  if (s.latency.count() == 0) {
    out += "latency   - (no responses)\n";
  } else {
    out += fmt::format("latency   p50 {:.1f}ms  p99 {:.1f}ms  max {:.1f}ms\n",
                       s.latency.quantileMs(0.5), s.latency.quantileMs(0.99), s.latency.maxMs());
  }
  if (!s.versions.empty()) {
    out += "versions  " + tally(s.versions) + "\n";
  }
  if (!s.upstreamVersions.empty()) {
    out += "upstream  " + tally(s.upstreamVersions) + "\n";
  }
  return out;
}

std::string formatJson(const LoadReport& r) {
  const LoadStats& s = r.stats;
  json::Json status = json::Json::object();
  for (const auto& [code, n] : s.byStatus) {
    status[std::to_string(code)] = n;
  }
  json::Json doc = {
      {"requests", s.total},
      {"ok", s.ok},
      {"failed", s.failed()},
      {"seconds", r.seconds},
      {"interrupted", r.interrupted},
      {"status", status},
      {"errors", s.byError},
      {"latency_ms",
       {{"p50", s.latency.quantileMs(0.5)},
        {"p99", s.latency.quantileMs(0.99)},
        {"max", s.latency.maxMs()},
        {"mean", s.latency.meanMs()}}},
      {"versions", s.versions},
      {"upstream_versions", s.upstreamVersions},
  };
  return json::dump(doc) + "\n";
}

}  // namespace weft::sample
