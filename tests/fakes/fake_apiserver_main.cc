// weft-fake-apiserver: the fake kube-apiserver as a process, for integration
// tests and local runs. Prints its URL on stdout, serves until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "common/file.h"
#include "common/flags/flags.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/fakes/test_certs.h"

int main(int argc, char** argv) {
  CLI::App app{"A fake kube-apiserver for tests", "weft-fake-apiserver"};
  weft::flags::CommonFlags common;
  weft::flags::addCommonFlags(app, common);
  bool tls = false;
  std::string caOut;
  std::string token;
  app.add_flag("--tls", tls, "serve HTTPS with a freshly generated certificate");
  app.add_option("--ca-out", caOut, "write the CA certificate (PEM) to this file");
  app.add_option("--token", token, "require this bearer token");
  if (auto code = weft::flags::parse(app, argc, argv, common)) {
    return *code;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server's threads start

  weft::testing::FakeApiServerOptions options;
  if (tls) {
    auto pki = weft::testing::makeTestPki();
    if (!pki.ok()) {
      return weft::flags::fail(app, pki.error().describe());
    }
    options.certPem = pki->serverCertPem;
    options.keyPem = pki->serverKeyPem;
    if (!caOut.empty()) {
      if (auto written = weft::writeFileAtomic(caOut, pki->caCertPem); !written.ok()) {
        return weft::flags::fail(app, written.error().describe());
      }
    }
  }
  auto server = weft::testing::FakeApiServer::start(options);
  if (!server.ok()) {
    return weft::flags::fail(app, server.error().describe());
  }
  (*server)->state().setRequiredToken(token);
  std::cout << (*server)->url() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
