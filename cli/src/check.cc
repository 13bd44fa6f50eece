// `weftctl check`: flags, the connection to the API server, then every group
// of checks in order.
#include "cli/src/check.h"

#include <charconv>
#include <iostream>

#include <unistd.h>

#include "cli/src/check_steps.h"
#include "cli/src/kube_context.h"
#include "cli/src/tls_probe.h"
#include "common/api/duration.h"
#include "common/json/json.h"
#include "common/kube/kube_error.h"

namespace weft::cli {
namespace {

using namespace std::chrono_literals;

constexpr int kMinMinor = 26;  // Kubernetes 1.26, the oldest Weft supports

// "7d" (whole days) or a Go-style duration ("36h", "90m", "0").
Result<std::chrono::milliseconds> parseSpan(const std::string& text) {
  if (text.size() > 1 && text.back() == 'd') {
    int days = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, days);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || days < 0 || days > 3650) {
      return makeError(ErrorCode::kInvalidArgument,
                       "\"" + text + "\": days must be a whole number from 0 to 3650");
    }
    return std::chrono::milliseconds(std::chrono::hours(24 * days));
  }
  return api::parseDuration(text);
}

// Major and minor from /version: "1" and "29+" (GKE), or gitVersion "v1.29.3-eks-1".
bool serverMinor(const json::Json& version, int& major, int& minor) {
  auto leadingInt = [](const std::string& s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end != s.data();
  };
  std::string ma = json::getStringOr(version, "/major", "").valueOr("");
  std::string mi = json::getStringOr(version, "/minor", "").valueOr("");
  if (leadingInt(ma, major) && leadingInt(mi, minor)) {
    return true;
  }
  std::string git = json::getStringOr(version, "/gitVersion", "").valueOr("");
  if (git.size() > 1 && git[0] == 'v') {
    auto dot = git.find('.');
    return dot != std::string::npos && leadingInt(git.substr(1, dot - 1), major) &&
           leadingInt(git.substr(dot + 1), minor);
  }
  return false;
}

// The first check: without the API server nothing else can be checked.
bool checkApi(kube::HttpKubeApi& api, const KubeContext& context, std::chrono::milliseconds timeout,
              CheckReport& report) {
  const std::string name = "Kubernetes API reachable";
  auto started = std::chrono::steady_clock::now();
  auto version = api.serverVersion();
  if (!version) {
    const Error& e = version.error();
    std::string message = "GET " + context.config.server + "/version: " + e.message;
    if (std::chrono::steady_clock::now() - started >= timeout - 50ms) {
      message += " (no answer within " + api::formatDuration(timeout) + ", --timeout)";
    }
    std::string fix;
    if (e.code == ErrorCode::kUnauthenticated) {
      fix = "the API server refused the credentials of " + context.source +
            ": renew the token or client certificate";
    } else if (e.code == ErrorCode::kPermissionDenied) {
      fix = "the credentials of " + context.source + " may not read /version; see " + kRbacDoc;
    } else {
      fix = "check that the API server at " + context.config.server +
            " is up and reachable from here, and that " + context.source +
            " names the right cluster (its current-context)";
    }
    report.fail(name, message, fix);
    return false;
  }
  std::string git = json::getStringOr(*version, "/gitVersion", "").valueOr("");
  report.ok(name, context.config.server + ", " + git);
  int major = 0;
  int minor = 0;
  const std::string versionName = "Kubernetes version >= 1." + std::to_string(kMinMinor);
  if (!serverMinor(*version, major, minor)) {
    report.fail(versionName, "cannot read a version from /version (gitVersion \"" + git + "\")",
                "run weftctl against a Kubernetes API server");
  } else if (major < 1 || (major == 1 && minor < kMinMinor)) {
    report.fail(versionName,
                "the cluster runs " + git + ", older than 1." + std::to_string(kMinMinor),
                "upgrade the cluster to Kubernetes 1." + std::to_string(kMinMinor) +
                    " or newer (1.29+ for native sidecars)");
  } else {
    report.ok(versionName, git);
  }
  return true;
}

}  // namespace

std::string fixFor(const Error& error, const std::string& otherwise) {
  if (error.code == ErrorCode::kPermissionDenied) {
    return "grant this account the read rights listed in " + std::string(kRbacDoc);
  }
  return otherwise;
}

int runCheck(const CheckFlags& flags, std::ostream& out, std::ostream& err) {
  auto window = parseSpan(flags.expiryWarning);
  if (!window) {
    err << "weftctl check: error: --expiry-warning " << window.error().message << "\n";
    return 2;
  }
  auto timeout = parseSpan(flags.timeout);
  if (!timeout || *timeout < 1s || *timeout > std::chrono::minutes(10)) {
    err << "weftctl check: error: --timeout \"" << flags.timeout
        << "\": give a duration from 1s to 10m\n";
    return 2;
  }
  if (flags.output != "text" && flags.output != "json") {
    err << "weftctl check: error: --output \"" << flags.output << "\": text or json\n";
    return 2;
  }
  if (flags.ns.empty()) {
    err << "weftctl check: error: --namespace must not be empty\n";
    return 2;
  }
  if (!flags.webhookAddress.empty()) {
    if (auto target = parseHostPort(flags.webhookAddress); !target) {
      err << "weftctl check: error: --webhook-address " << target.error().message << "\n";
      return 2;
    }
  }

  CheckReport report;
  auto finish = [&] {
    if (flags.output == "json") {
      report.printJson(out, flags.ns);
    } else {
      // Symbols on a terminal; plain ASCII in logs (helm test) and pipes.
      report.printText(out, &out != &std::cout || isatty(STDOUT_FILENO) == 0);
    }
    out.flush();
    return report.exitCode();
  };

  auto context = resolveKubeContext(flags.kubeconfig);
  if (!context) {
    report.fail("Kubernetes API reachable", context.error().message,
                "pass --kubeconfig FILE, set $KUBECONFIG, or run inside the cluster");
    return finish();
  }
  auto options = kubeApiOptions(*timeout, "weftctl-check");
  auto api = kube::HttpKubeApi::create(context->config, options);
  if (!api) {
    report.fail("Kubernetes API reachable", api.error().message + " (" + context->source + ")",
                "fix the cluster entry of " + context->source);
    return finish();
  }
  if (!checkApi(**api, *context, options.requestTimeout, report)) {
    return finish();
  }
  CheckContext ctx{**api,
                   flags.ns,
                   std::chrono::system_clock::now(),
                   std::chrono::duration_cast<std::chrono::seconds>(*window),
                   *timeout,
                   flags.webhookAddress,
                   report};
  checkCrds(ctx);
  checkDeployments(ctx);
  checkWebhook(ctx);
  checkMeshCertificates(ctx);
  return finish();
}

}  // namespace weft::cli
