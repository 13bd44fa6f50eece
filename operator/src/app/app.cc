// Flag parsing and wiring for weft-operator: source -> reconciler -> document
// table -> discovery streams, plus the admin listener. One io thread runs the
// reconciler, the discovery API and the admin API; sources post to it.
#include "operator/src/app/app.h"

#include <csignal>

#include "common/asio.h"
#include "common/flags/flags.h"
#include "common/json/json.h"
#include "common/kube/config.h"
#include "common/kube/http_kube_api.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"
#include "operator/src/app/admin.h"
#include "operator/src/discovery/server.h"
#include "operator/src/discovery/table.h"
#include "operator/src/discovery/tls.h"
#include "operator/src/reconcile/reconciler.h"
#include "operator/src/source/dir_source.h"
#include "operator/src/source/kube_source.h"
#include "operator/src/status/kube_status.h"
#include "operator/src/status/status.h"

namespace weft::op {

namespace net = boost::asio;

namespace {

// Hands what a source sees to the io thread; reconciles shortly after, so a
// burst of changes (a file with many objects) becomes one pass.
class Controller final : public source::Sink {
 public:
  Controller(net::io_context& io, reconcile::Reconciler& reconciler, metrics::Registry& registry)
      : io_(io),
        reconciler_(reconciler),
        timer_(io),
        resync_(io),
        reconciles_(registry.counter("weft_operator_reconciles_total", "Reconcile passes by result",
                                     {"result"})),
        duration_(registry.histogram("weft_operator_reconcile_duration_seconds",
                                     "Time of one reconcile pass", metrics::latencyBuckets())),
        published_(registry.counter("weft_operator_documents_published_total",
                                    "New document versions published", {"stream"})),
        statusWrites_(registry.counter("weft_operator_status_writes_total",
                                       "Status writes (only when something changed)")),
        events_(registry.counter("weft_operator_events_total", "Events recorded")) {}

  // source::Sink (any thread)
  void upsert(source::Kind kind, source::ObjectPtr object) override {
    net::post(io_, [this, kind, object = std::move(object)]() mutable {
      reconciler_.upsert(kind, std::move(object));
      schedule();
    });
  }
  void remove(source::Kind kind, const std::string& key) override {
    net::post(io_, [this, kind, key] {
      reconciler_.remove(kind, key);
      schedule();
    });
  }
  void replace(source::Kind kind, std::vector<source::ObjectPtr> objects) override {
    net::post(io_, [this, kind, objects = std::move(objects)]() mutable {
      reconciler_.replace(kind, std::move(objects));
      schedule();
    });
  }
  void synced() override {
    net::post(io_, [this] {
      synced_ = true;
      schedule();
    });
  }

  bool ready() const { return ready_; }
  bool pending() const { return reconciler_.pending(); }

  void startResync(std::chrono::seconds every) {
    resync_.expires_after(every);
    resync_.async_wait([this, every](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      reconciler_.markAll();
      schedule();
      startResync(every);
    });
  }
  void stop() {
    timer_.cancel();
    resync_.cancel();
  }

 private:
  void schedule() {
    if (scheduled_ || !synced_) {
      return;
    }
    scheduled_ = true;
    timer_.expires_after(std::chrono::milliseconds(2));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      scheduled_ = false;
      if (!ec) {
        pass();
      }
    });
  }

  void pass() {
    auto start = std::chrono::steady_clock::now();
    auto stats = reconciler_.reconcile();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    duration_.get().observe(seconds);
    reconciles_.with({"ok"}).inc();
    published_.with({"all"}).inc(stats.documentsPublished);
    statusWrites_.get().inc(stats.statusWrites);
    events_.get().inc(stats.events);
    if (stats.documentsPublished > 0 || stats.statusWrites > 0) {
      log::get("operator.reconcile")
          ->debug(
              "pass: {} services, {} pods rendered; {} documents published, {} removed, {} "
              "status writes, {} events in {:.1f} ms",
              stats.servicesRendered, stats.podsRendered, stats.documentsPublished,
              stats.documentsRemoved, stats.statusWrites, stats.events, seconds * 1000);
    }
    if (!ready_ && !reconciler_.pending()) {
      ready_ = true;
      log::get("operator")->info("caches synced and reconciled: ready");
    }
    if (reconciler_.pending()) {
      schedule();
    }
  }

  net::io_context& io_;
  reconcile::Reconciler& reconciler_;
  net::steady_timer timer_;
  net::steady_timer resync_;
  bool scheduled_ = false;
  bool synced_ = false;
  bool ready_ = false;
  metrics::CounterFamily& reconciles_;
  metrics::HistogramFamily& duration_;
  metrics::CounterFamily& published_;
  metrics::CounterFamily& statusWrites_;
  metrics::CounterFamily& events_;
};

}  // namespace

int run(int argc, const char* const* argv) {
  CLI::App app{"Weft control plane: reconciles resources into proxy configuration",
               "weft-operator"};
  flags::CommonFlags common;
  flags::addCommonFlags(app, common);
  std::string sourceFlag = "kube";
  std::string kubeconfig;
  std::string discoveryListen = "0.0.0.0:8443";
  std::string adminListen = "0.0.0.0:9990";
  std::string tlsCert;
  std::string tlsKey;
  int resyncSeconds = 300;
  app.add_option("--source", sourceFlag, "kube, or dir:PATH for local mode")->capture_default_str();
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  app.add_option("--discovery-listen", discoveryListen, "discovery API listener (HTTPS)")
      ->capture_default_str();
  app.add_option("--admin-listen", adminListen, "/healthz, /readyz, /metrics listener")
      ->capture_default_str();
  app.add_option("--tls-cert", tlsCert,
                 "discovery serving certificate (PEM); default: self-signed at start");
  app.add_option("--tls-key", tlsKey, "discovery serving key (PEM)");
  app.add_option("--resync-interval", resyncSeconds, "seconds between full reconciles")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (sourceFlag != "kube" && sourceFlag.rfind("dir:", 0) != 0) {
    return flags::fail(app, "--source: expected 'kube' or 'dir:PATH', got '" + sourceFlag + "'");
  }
  if (tlsCert.empty() != tlsKey.empty()) {
    return flags::fail(app, "--tls-cert and --tls-key go together");
  }
  auto logger = log::get("operator");

  // The source, and where status goes: the API server, or memory in local mode.
  std::unique_ptr<source::Source> src;
  source::DirSource* dirSource = nullptr;
  source::KubeSource* kubeSource = nullptr;
  std::unique_ptr<status::KubeStatusWriter> kubeStatus;
  status::MemoryStatus memoryStatus;
  if (sourceFlag == "kube") {
    auto config = kube::loadConfig(kubeconfig);
    if (!config) {
      return flags::fail(app, (kubeconfig.empty() ? "in-cluster config: " : "--kubeconfig: ") +
                                  config.error().message);
    }
    auto api = kube::HttpKubeApi::create(*config);
    if (!api) {
      return flags::fail(app, "Kubernetes API client: " + api.error().message);
    }
    std::shared_ptr<kube::KubeApi> shared = std::move(*api);
    auto ks = std::make_unique<source::KubeSource>(shared);
    kubeSource = ks.get();
    src = std::move(ks);
    kubeStatus = std::make_unique<status::KubeStatusWriter>(shared);
  } else {
    auto dir = source::DirSource::create({sourceFlag.substr(4)});
    if (!dir) {
      return flags::fail(app, "--source: " + dir.error().message);
    }
    dirSource = dir->get();
    src = std::move(*dir);
  }
  status::StatusWriter& statusWriter =
      kubeStatus ? static_cast<status::StatusWriter&>(*kubeStatus) : memoryStatus;

  auto cert = tlsCert.empty() ? discovery::makeSelfSigned(
                                    {"localhost", "weft-control", "weft-control.weft-system.svc"},
                                    {"127.0.0.1", "::1"})
                              : discovery::loadCertificate(tlsCert, tlsKey);
  if (!cert) {
    return flags::fail(app, cert.error().message);
  }

  net::io_context io(1);
  metrics::Registry registry;
  discovery::DocumentTable table;
  reconcile::Reconciler reconciler(table, statusWriter);
  Controller controller(io, reconciler, registry);
  auto& pushLatency = registry.histogram("weft_operator_push_latency_seconds",
                                         "Time from a document's publication to its write on a "
                                         "stream",
                                         metrics::latencyBuckets());
  discovery::ServerOptions options;
  options.listen = discoveryListen;
  options.certificate = std::move(*cert);
  options.onPush = [&pushLatency](double s) { pushLatency.get().observe(s); };
  auto server = discovery::Server::create(io, table, std::move(options));
  if (!server) {
    return flags::fail(app, server.error().message);
  }
  discovery::Server* srv = server->get();
  table.setListener([srv](discovery::Stream s, const std::string& key) { srv->notify(s, key); });

  auto& openStreams = registry.gauge("weft_operator_discovery_streams", "Open discovery streams");
  auto& streamsTotal =
      registry.counter("weft_operator_discovery_streams_total", "Discovery streams opened");
  auto& coalesced = registry.counter("weft_operator_discovery_coalesced_total",
                                     "Versions skipped for slow readers (only the latest is sent)");
  auto& queueDepth =
      registry.gauge("weft_operator_queue_depth", "1 while changes wait for a reconcile pass");
  auto& documents = registry.gauge("weft_operator_documents", "Documents served", {"stream"});
  auto& parseErrors = registry.counter("weft_operator_source_parse_errors_total",
                                       "Manifest files that failed to parse (dir source)");
  auto& ready = registry.gauge("weft_operator_ready", "1 once caches are synced");
  std::uint64_t lastStreams = 0;
  std::uint64_t lastCoalesced = 0;
  std::uint64_t lastParseErrors = 0;
  auto& watchRestarts =
      registry.counter("weft_operator_watch_restarts_total", "Watches restarted (kube source)");
  auto& relists =
      registry.counter("weft_operator_relists_total", "Full relists after 410 Gone (kube source)");
  auto& statusFailures = registry.counter("weft_operator_status_write_failures_total",
                                          "Status writes and Events the API server refused");
  std::uint64_t lastRestarts = 0;
  std::uint64_t lastRelists = 0;
  std::uint64_t lastStatusFailures = 0;

  auto admin = app::AdminServer::create(io, adminListen, [&](const std::string& path) {
    if (path == "/healthz") {
      return app::AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (path == "/readyz") {
      return controller.ready()
                 ? app::AdminResponse{200, "text/plain; charset=utf-8", "ready\n"}
                 : app::AdminResponse{503, "text/plain; charset=utf-8", "caches not synced\n"};
    }
    if (path == "/metrics") {
      auto st = srv->stats();
      openStreams.get().set(static_cast<std::int64_t>(st.openStreams));
      streamsTotal.get().inc(st.streamsTotal - lastStreams);
      lastStreams = st.streamsTotal;
      coalesced.get().inc(st.coalesced - lastCoalesced);
      lastCoalesced = st.coalesced;
      if (dirSource) {
        std::uint64_t pe = dirSource->parseErrorsTotal();
        parseErrors.get().inc(pe - lastParseErrors);
        lastParseErrors = pe;
      }
      if (kubeSource) {
        std::uint64_t wr = kubeSource->watchRestarts();
        watchRestarts.get().inc(wr - lastRestarts);
        lastRestarts = wr;
        std::uint64_t rl = kubeSource->relists();
        relists.get().inc(rl - lastRelists);
        lastRelists = rl;
      }
      if (kubeStatus) {
        std::uint64_t sf = kubeStatus->failures();
        statusFailures.get().inc(sf - lastStatusFailures);
        lastStatusFailures = sf;
      }
      queueDepth.get().set(controller.pending() ? 1 : 0);
      documents.with({"outbound"}).set(static_cast<std::int64_t>(table.outboundCount()));
      documents.with({"inbound"}).set(static_cast<std::int64_t>(table.inboundCount()));
      ready.get().set(controller.ready() ? 1 : 0);
      return app::AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry.render()};
    }
    if (path == "/status" && dirSource) {
      json::Json body = memoryStatus.snapshot();
      body["sourceProblems"] = dirSource->problems();
      body["ready"] = controller.ready();
      body["documents"] = {{"outbound", table.outboundCount()}, {"inbound", table.inboundCount()}};
      return app::AdminResponse{200, "application/json", json::dump(body, 2) + "\n"};
    }
    return app::AdminResponse{404, "text/plain; charset=utf-8", "not found\n"};
  });
  if (!admin) {
    return flags::fail(app, admin.error().message);
  }
  logger->info("weft-operator starting: source {}", sourceFlag);
  logger->info("discovery API listening on {} (port {})", discoveryListen, srv->port());
  logger->info("admin API listening on {} (port {})", adminListen, (*admin)->port());

  if (auto r = src->start(controller); !r) {
    return flags::fail(app, r.error().message);
  }
  controller.startResync(std::chrono::seconds(resyncSeconds));

  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) {
      return;
    }
    logger->info("signal {}: shutting down", sig);
    src->stop();
    controller.stop();
    srv->stop();
    (*admin)->stop();
    io.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  src->stop();
  table.setListener(nullptr);
  logger->info("stopped");
  return 0;
}

}  // namespace weft::op
