// weft-sample: the demo's sample service (serve) and load generator (load).
#include <csignal>
#include <iostream>

#include <sys/signalfd.h>

#include "common/api/duration.h"
#include "common/flags/flags.h"
#include "examples/sample/load.h"
#include "examples/sample/server.h"

namespace {

using weft::sample::Url;

// Options whose values are checked as they are parsed, so that a bad value is
// a usage error (exit 2) like any other.
template <typename T, typename Parse>
CLI::Option* checkedOption(CLI::App* cmd, const std::string& name, T& out, Parse parse,
                           const std::string& help) {
  return cmd->add_option_function<std::string>(
      name,
      [&out, name, parse](const std::string& text) {
        auto value = parse(text);
        if (!value) {
          throw CLI::ValidationError(name, value.error().message);
        }
        out = *value;
      },
      help);
}

CLI::Option* durationOption(CLI::App* cmd, const std::string& name, std::chrono::milliseconds& out,
                            const std::string& help) {
  return checkedOption(cmd, name, out, weft::api::parseDuration, help)->type_name("DURATION");
}

// T: Url or std::optional<Url>.
template <typename T>
CLI::Option* urlOption(CLI::App* cmd, const std::string& name, T& out, const std::string& help) {
  return checkedOption(cmd, name, out, weft::sample::parseUrl, help)->type_name("URL");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft-sample: the Weft demo's sample service and load generator", "weft-sample"};
  weft::flags::CommonFlags common;
  weft::flags::addCommonFlags(app, common);
  app.require_subcommand(1);

  weft::sample::ServeOptions serve;
  auto* serveCmd = app.add_subcommand("serve", "answer HTTP requests as a sample service");
  checkedOption(
      serveCmd, "--listen", serve.listen,
      [](const std::string& t) { return weft::sample::parseHostPort(t, true); },
      "ADDR:PORT to listen on (port 0: any)")
      ->type_name("ADDR:PORT")
      ->required();
  serveCmd->add_option("--name", serve.name, "service name, sent as x-sample-name")->required();
  serveCmd->add_option("--version", serve.version, "version, sent as x-sample-version")->required();
  durationOption(serveCmd, "--latency", serve.latency, "added to every answer (20ms)");
  durationOption(serveCmd, "--latency-jitter", serve.jitter, "latency varies by up to this");
  serveCmd->add_option("--error-rate", serve.errorRate, "share of requests answered 503")
      ->check(CLI::Range(0.0, 1.0));
  urlOption(serveCmd, "--call", serve.call, "http:// URL to GET for every request");
  serveCmd->add_option("--call-host", serve.callHost, "Host header of --call (default: its URL's)");
  durationOption(serveCmd, "--call-timeout", serve.callTimeout, "deadline of --call (2s)");

  weft::sample::LoadOptions load;
  bool asJson = false;
  auto* loadCmd = app.add_subcommand("load", "send a bounded load and report what came back");
  urlOption(loadCmd, "--url", load.url, "http:// URL to GET")->required();
  loadCmd->add_option("--host", load.host, "Host header (default: the URL's)");
  loadCmd->add_option("--rate", load.rate, "requests per second, open loop (default: closed loop)");
  loadCmd->add_option("--concurrency", load.concurrency, "connections (1)");
  loadCmd->add_option("--requests", load.requests, "stop after this many requests");
  durationOption(loadCmd, "--duration", load.duration, "stop after this long");
  durationOption(loadCmd, "--timeout", load.timeout, "deadline of each request (2s)");
  durationOption(loadCmd, "--interval", load.interval, "print a line this often");
  loadCmd->add_flag("--json", asJson, "print the summary as JSON");

  if (auto code = weft::flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (loadCmd->parsed()) {
    if (auto v = weft::sample::validate(load); !v) {
      std::cerr << "weft-sample: error: " << v.error().message << " (see --help)\n";
      return 2;
    }
  }

  // Signals arrive on a descriptor that every thread can poll.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int stopFd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (stopFd < 0) {
    return weft::flags::fail(app, "signalfd failed");
  }

  if (serveCmd->parsed()) {
    return weft::sample::runServe(serve, stopFd, std::cout);
  }
  auto report = weft::sample::runLoad(load, stopFd, asJson ? std::cerr : std::cout);
  if (!report) {
    return weft::flags::fail(app, report.error().message);
  }
  std::cout << (asJson ? weft::sample::formatJson(*report) : weft::sample::formatSummary(*report));
  return report->interrupted ? 130 : 0;
}
