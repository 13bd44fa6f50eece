// Flag parsing and wiring for weft-operator: source -> reconciler -> document
// table -> discovery streams, plus the admin listener. One io thread runs the
// reconciler, the discovery API and the admin API; sources post to it.
#include "operator/src/app/app.h"

#include <atomic>
#include <csignal>
#include <cstdlib>

#include <unistd.h>

#include "common/api/duration.h"
#include "common/asio.h"
#include "common/flags/flags.h"
#include "common/json/json.h"
#include "common/kube/config.h"
#include "common/kube/http_kube_api.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"
#include "common/strings.h"
#include "common/tls/pki.h"
#include "operator/src/app/admin.h"
#include "operator/src/app/certificates.h"
#include "operator/src/app/leadership.h"
#include "operator/src/discovery/server.h"
#include "operator/src/discovery/table.h"
#include "operator/src/discovery/tls.h"
#include "operator/src/identity/certifier.h"
#include "operator/src/identity/keeper.h"
#include "operator/src/identity/token_review.h"
#include "operator/src/reconcile/reconciler.h"
#include "operator/src/source/dir_source.h"
#include "operator/src/source/kube_source.h"
#include "operator/src/source/kube_status_writer.h"
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
        programmed_(io),
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

  // The discovery server sent a document or a stream came or went: look at
  // Programmed again soon, at most every kProgrammedInterval, not per send.
  void deliveryChanged() {
    if (programmedArmed_ || !synced_) {
      return;
    }
    programmedArmed_ = true;
    programmed_.expires_after(kProgrammedInterval);
    programmed_.async_wait([this](const boost::system::error_code& ec) {
      programmedArmed_ = false;
      if (!ec) {
        count(reconciler_.refreshProgrammed());
      }
    });
  }

  // On the io thread.
  void setLeader(bool leader) {
    reconciler_.setLeader(leader);
    if (leader) {
      schedule();
    }
  }

  void setTrustBundle(std::vector<std::string> bundle) {
    reconciler_.setTrustBundle(std::move(bundle));
    schedule();
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
    programmed_.cancel();
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
    count(stats);
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

  void count(const reconcile::PassStats& stats) {
    statusWrites_.get().inc(stats.statusWrites);
    events_.get().inc(stats.events);
  }

  static constexpr std::chrono::milliseconds kProgrammedInterval{250};

  net::io_context& io_;
  reconcile::Reconciler& reconciler_;
  net::steady_timer timer_;
  net::steady_timer resync_;
  net::steady_timer programmed_;
  bool programmedArmed_ = false;
  bool scheduled_ = false;
  bool synced_ = false;
  bool ready_ = false;
  metrics::CounterFamily& reconciles_;
  metrics::HistogramFamily& duration_;
  metrics::CounterFamily& published_;
  metrics::CounterFamily& statusWrites_;
  metrics::CounterFamily& events_;
};

std::string envOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string hostName() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("weft-operator");
}

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
  std::string ownNamespace = envOr("POD_NAMESPACE", "weft-system");
  std::string excludedNamespaces = envOr("WEFT_EXCLUDED_NAMESPACES", "");
  bool leaderElect = true;
  std::string leaseName = "weft-operator";
  std::string leaseNamespace;
  std::string identity = envOr("POD_NAME", hostName());
  std::string leaseDuration = "15s";
  std::string renewDeadline = "10s";
  std::string retryPeriod = "2s";
  std::string issuerDir;
  std::string clientAuthFlag = "require";
  std::string certificateLifetime;
  std::vector<std::string> discoveryDnsNames;
  std::string discoveryLifetimeFlag;
  app.add_option("--source", sourceFlag, "kube, or dir:PATH for local mode")->capture_default_str();
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: in-cluster)");
  app.add_option("--discovery-listen", discoveryListen, "discovery API listener (HTTPS)")
      ->capture_default_str();
  app.add_option("--admin-listen", adminListen, "/healthz, /readyz, /metrics listener")
      ->capture_default_str();
  app.add_option("--tls-cert", tlsCert,
                 "discovery serving certificate (PEM) served as is; default: one the mesh issuer "
                 "signs for weft-control.<namespace>.svc[.cluster.local], renewed in memory");
  app.add_option("--tls-key", tlsKey, "discovery serving key (PEM)");
  app.add_option("--resync-interval", resyncSeconds, "seconds between full reconciles")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--namespace", ownNamespace,
                 "Weft's own namespace (never meshed; default: env POD_NAMESPACE)")
      ->capture_default_str();
  app.add_option("--excluded-namespaces", excludedNamespaces,
                 "comma-separated namespaces the injector never injects, so their pods are never "
                 "reported unmeshed (default: env WEFT_EXCLUDED_NAMESPACES)");
  app.add_option("--leader-elect", leaderElect,
                 "with --source kube: elect the replica that writes status and Events")
      ->capture_default_str();
  app.add_option("--lease-name", leaseName, "the coordination.k8s.io/v1 Lease")
      ->capture_default_str();
  app.add_option("--lease-namespace", leaseNamespace,
                 "the Lease's namespace (default: --namespace)");
  app.add_option("--leader-identity", identity,
                 "this replica in the Lease (default: env POD_NAME, else the host name)")
      ->capture_default_str();
  app.add_option("--lease-duration", leaseDuration, "how long others respect an unrenewed lease")
      ->capture_default_str();
  app.add_option("--renew-deadline", renewDeadline,
                 "the leader gives up after failing to renew for this long")
      ->capture_default_str();
  app.add_option("--retry-period", retryPeriod, "between attempts to acquire or renew")
      ->capture_default_str();
  app.add_option("--issuer-dir", issuerDir,
                 "with --source dir: the mesh CA's tls.crt, tls.key, ca.crt (made there when "
                 "absent; default: a CA in memory)");
  app.add_option("--discovery-client-auth", clientAuthFlag,
                 "require: discovery streams need a workload certificate, and a pod's Inbound "
                 "stream that pod's own; optional: also open to proxies without one (local runs)")
      ->capture_default_str();
  app.add_option("--discovery-dns-name", discoveryDnsNames,
                 "another DNS name for the discovery certificate the mesh issuer signs "
                 "(repeatable; not with --tls-cert)");
  app.add_option("--discovery-certificate-lifetime", discoveryLifetimeFlag,
                 "lifetime of that certificate (default 24h, at least 5s; renewed past 2/3 of "
                 "it and when the issuer changes)");
  app.add_option("--certificate-lifetime", certificateLifetime,
                 "with --source dir: workload certificate lifetime instead of the Mesh's (e.g. "
                 "30s, to watch renewals and rotations)");
  if (auto code = flags::parse(app, argc, argv, common)) {
    return *code;
  }
  if (sourceFlag != "kube" && sourceFlag.rfind("dir:", 0) != 0) {
    return flags::fail(app, "--source: expected 'kube' or 'dir:PATH', got '" + sourceFlag + "'");
  }
  if (!issuerDir.empty() && sourceFlag == "kube") {
    return flags::fail(app, "--issuer-dir: only with --source dir: (kube mode uses the Secret " +
                                std::string("weft-identity-issuer)"));
  }
  auto clientAuth = discovery::parseClientAuth(clientAuthFlag);
  if (!clientAuth) {
    return flags::fail(app, "--discovery-client-auth: " + clientAuth.error().message);
  }
  std::optional<std::chrono::seconds> lifetimeOverride;
  if (!certificateLifetime.empty()) {
    auto d = api::parseDuration(certificateLifetime);
    if (sourceFlag == "kube") {
      return flags::fail(app,
                         "--certificate-lifetime: only with --source dir: (kube mode uses "
                         "Mesh.spec.certificateLifetime)");
    }
    if (!d || *d < std::chrono::seconds(2)) {
      return flags::fail(app, "--certificate-lifetime: " +
                                  (d ? std::string("must be at least 2s") : d.error().message));
    }
    lifetimeOverride = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (tlsCert.empty() != tlsKey.empty()) {
    return flags::fail(app, "--tls-cert and --tls-key go together");
  }
  // Without files the mesh issuer signs the discovery certificate, so that a
  // proxy holding only the trust bundle can verify the control plane.
  std::vector<std::string> servingNames;
  std::chrono::seconds servingLifetime = identity::kDiscoveryLifetime;
  if (!tlsCert.empty() && (!discoveryDnsNames.empty() || !discoveryLifetimeFlag.empty())) {
    return flags::fail(app,
                       std::string(discoveryDnsNames.empty() ? "--discovery-certificate-lifetime"
                                                             : "--discovery-dns-name") +
                           ": not with --tls-cert (that certificate is served as is)");
  }
  if (tlsCert.empty()) {
    auto names = identity::discoveryNames(ownNamespace, discoveryDnsNames);
    if (!names) {
      return flags::fail(app, "--discovery-dns-name: " + names.error().message);
    }
    servingNames = std::move(*names);
  }
  if (!discoveryLifetimeFlag.empty()) {
    auto d = api::parseDuration(discoveryLifetimeFlag);
    if (!d || *d < std::chrono::seconds(5)) {
      return flags::fail(app, "--discovery-certificate-lifetime: " +
                                  (d ? std::string("must be at least 5s") : d.error().message));
    }
    servingLifetime = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  kube::LeaderElectionOptions election;
  election.ns = leaseNamespace.empty() ? ownNamespace : leaseNamespace;
  election.name = leaseName;
  election.identity = identity;
  for (auto [flag, text, out] :
       {std::tuple{"--lease-duration", &leaseDuration, &election.leaseDuration},
        std::tuple{"--renew-deadline", &renewDeadline, &election.renewDeadline},
        std::tuple{"--retry-period", &retryPeriod, &election.retryPeriod}}) {
    auto d = api::parseDuration(*text);
    if (!d || d->count() == 0) {
      return flags::fail(app, std::string(flag) + ": " +
                                  (d ? std::string("must be more than 0") : d.error().message));
    }
    *out = *d;
  }
  if (election.renewDeadline >= election.leaseDuration ||
      election.retryPeriod >= election.renewDeadline) {
    return flags::fail(app, "expected --retry-period < --renew-deadline < --lease-duration");
  }
  if (identity.empty()) {
    return flags::fail(app, "--leader-identity: must not be empty");
  }
  auto logger = log::get("operator");

  // The source, and where status goes: the API server, or memory in local mode.
  std::unique_ptr<source::Source> src;
  source::DirSource* dirSource = nullptr;
  source::KubeSource* kubeSource = nullptr;
  std::shared_ptr<kube::KubeApi> kubeApi;
  std::unique_ptr<app::Leadership> leadership;
  std::atomic<const app::Leadership*> elected{nullptr};  // read by the status writer's thread
  std::unique_ptr<source::KubeStatusWriter> kubeStatus;
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
    kubeApi = std::move(*api);
    auto ks = std::make_unique<source::KubeSource>(kubeApi);
    kubeSource = ks.get();
    src = std::move(ks);
    source::KubeStatusWriterOptions writerOptions;
    if (leaderElect) {
      // Checked before every write, so a lost lease stops writing at once.
      writerOptions.mayWrite = [&elected] {
        const app::Leadership* l = elected.load();
        return l != nullptr && l->isLeader();
      };
    }
    kubeStatus = std::make_unique<source::KubeStatusWriter>(kubeApi, std::move(writerOptions));
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

  // Until the mesh issuer signs one, a placeholder no proxy trusts (the
  // operator is not ready meanwhile).
  auto cert = tlsCert.empty() ? discovery::makeSelfSigned(servingNames, {}, std::chrono::hours(24))
                              : discovery::loadCertificate(tlsCert, tlsKey);
  if (!cert) {
    return flags::fail(app, cert.error().message);
  }

  net::io_context io(1);
  metrics::Registry registry;
  discovery::DocumentTable table;
  reconcile::Reconciler reconciler(table, statusWriter);
  render::MeshingScope scope;
  scope.operatorNamespace = ownNamespace;
  for (std::string_view rest = excludedNamespaces; !rest.empty();) {
    auto comma = rest.find(',');
    std::string_view item = trimSpace(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!item.empty()) {
      scope.excludedNamespaces.emplace_back(item);
    }
  }
  if (kubeApi) {
    reconciler.setMeshingScope(std::move(scope));  // local mode has no injector to miss
  }
  reconciler.setLeader(!kubeApi || !leaderElect);
  Controller controller(io, reconciler, registry);
  auto& pushLatency = registry.histogram("weft_operator_push_latency_seconds",
                                         "Time from a document's publication to its write on a "
                                         "stream",
                                         metrics::latencyBuckets());
  discovery::ServerOptions options;
  options.listen = discoveryListen;
  options.certificate = std::move(*cert);
  options.onPush = [&pushLatency](double s) { pushLatency.get().observe(s); };
  options.onDelivery = [&controller] { controller.deliveryChanged(); };
  options.clientAuth = *clientAuth;
  options.trustDomain = [&reconciler] { return reconciler.mesh().trustDomain; };
  options.podIdentity = [&reconciler](const std::string& podKey) -> std::optional<std::string> {
    auto pod = reconciler.objects().get(source::Kind::kPod, podKey);
    if (!pod) {
      return std::nullopt;
    }
    std::string sa = json::getStringOr(*pod, "/spec/serviceAccountName", "").valueOr("");
    return tls::workloadId(reconciler.mesh().trustDomain, podKey.substr(0, podKey.find('/')),
                           sa.empty() ? "default" : sa);
  };
  // Certify runs on its own threads: a TokenReview must not stall the streams.
  auto reviewer =
      kubeApi ? identity::makeKubeTokenReviewer(*kubeApi)
              : identity::makeFileTokenReviewer(sourceFlag.substr(4) + "/" + identity::kTokensFile);
  identity::Certifier certifier(*reviewer);
  net::thread_pool certifyPool(2);
  auto& certifyTotal =
      registry.counter("weft_operator_certify_total", "Certify requests by result", {"result"});
  for (const char* result :
       {"issued", "bad_request", "unauthenticated", "forbidden", "rate_limited", "unavailable"}) {
    certifyTotal.with({result});  // every series from the start, at 0
  }
  // Bounds the queue before the pool: a flood is refused at once, not queued.
  constexpr int kMaxCertifyInFlight = 256;
  int certifyInFlight = 0;  // on the io thread
  options.certify = [&](std::string authorization, std::string body,
                        std::function<void(discovery::CertifyReply)> reply) {
    if (certifyInFlight >= kMaxCertifyInFlight) {
      certifyTotal.with({"unavailable"}).inc();
      reply({503, R"({"error":"too many certify requests in flight"})", 1});
      return;
    }
    ++certifyInFlight;
    identity::CertifyPolicy policy{
        reconciler.mesh().trustDomain,
        lifetimeOverride.value_or(reconciler.mesh().certificateLifetime)};
    net::post(certifyPool, [&, policy, authorization = std::move(authorization),
                            body = std::move(body), reply = std::move(reply)]() mutable {
      auto answer =
          certifier.certify(authorization, body, policy, std::chrono::system_clock::now());
      net::post(io, [&, answer = std::move(answer), reply = std::move(reply)] {
        --certifyInFlight;
        certifyTotal.with({answer.result}).inc();
        reply({answer.status, answer.body, answer.retryAfterSeconds});
      });
    });
  };
  auto server = discovery::Server::create(io, table, std::move(options));
  if (!server) {
    return flags::fail(app, server.error().message);
  }
  discovery::Server* srv = server->get();
  table.setListener([srv](discovery::Stream s, const std::string& key) { srv->notify(s, key); });
  reconciler.setDeliveries([srv] { return srv->deliveries(); });

  auto& openStreams = registry.gauge("weft_operator_discovery_streams", "Open discovery streams");
  auto& streamsTotal =
      registry.counter("weft_operator_discovery_streams_total", "Discovery streams opened");
  auto& refused = registry.counter("weft_operator_discovery_refused_total",
                                   "Subscriptions refused: no_certificate, invalid_certificate "
                                   "(401), forbidden (403), unavailable (503)",
                                   {"reason"});
  std::map<std::string, std::uint64_t> lastRefused;
  for (const char* reason : discovery::kRefusalReasons) {
    refused.with({reason});
    lastRefused[reason] = 0;
  }
  auto& coalesced = registry.counter("weft_operator_discovery_coalesced_total",
                                     "Versions skipped for slow readers (only the latest is sent)");
  auto& queueDepth =
      registry.gauge("weft_operator_queue_depth", "1 while changes wait for a reconcile pass");
  auto& documents = registry.gauge("weft_operator_documents", "Documents served", {"stream"});
  auto& parseErrors = registry.counter("weft_operator_source_parse_errors_total",
                                       "Manifest files that failed to parse (dir source)");
  auto& ready = registry.gauge("weft_operator_ready", "1 once caches are synced");
  auto& leaderGauge =
      registry.gauge("weft_operator_leader", "1 while this replica writes status and Events");
  auto& unmeshedGauge =
      registry.gauge("weft_operator_unmeshed_pods", "Opted-in pods running without the proxy");
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
  bool servingFromMesh = !tlsCert.empty();  // on the io thread: given files count as ready

  auto admin = app::AdminServer::create(io, adminListen, [&](const std::string& path) {
    if (path == "/healthz") {
      return app::AdminResponse{200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (path == "/readyz") {
      if (!controller.ready()) {
        return app::AdminResponse{503, "text/plain; charset=utf-8", "caches not synced\n"};
      }
      return servingFromMesh ? app::AdminResponse{200, "text/plain; charset=utf-8", "ready\n"}
                             : app::AdminResponse{503, "text/plain; charset=utf-8",
                                                  "the mesh issuer has not signed the discovery "
                                                  "certificate yet\n"};
    }
    if (path == "/metrics") {
      auto st = srv->stats();
      openStreams.get().set(static_cast<std::int64_t>(st.openStreams));
      streamsTotal.get().inc(st.streamsTotal - lastStreams);
      lastStreams = st.streamsTotal;
      for (const auto& [reason, n] : st.refused) {
        refused.with({reason}).inc(n - lastRefused[reason]);
        lastRefused[reason] = n;
      }
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
      leaderGauge.get().set(reconciler.leader() ? 1 : 0);
      unmeshedGauge.get().set(static_cast<std::int64_t>(reconciler.unmeshedPods()));
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
  app::CertificatesOptions certOptions;
  certOptions.api = kubeApi.get();
  certOptions.ns = ownNamespace;
  certOptions.issuerDir = issuerDir;
  if (kubeApi && leaderElect) {
    certOptions.leader = [&elected] {
      const app::Leadership* l = elected.load();
      return l != nullptr && l->isLeader();
    };
  }
  certOptions.onTrustBundle = [&](std::vector<std::string> bundle) {
    net::post(io, [&controller, srv, &logger, bundle = std::move(bundle)]() mutable {
      if (auto r = srv->setTrustBundle(bundle); !r) {
        logger->error("discovery client authentication keeps the previous trust bundle: {}",
                      r.error().message);
      }
      controller.setTrustBundle(std::move(bundle));
    });
  };
  certOptions.discoveryNames = servingNames;
  certOptions.discoveryLifetime = servingLifetime;
  certOptions.onDiscoveryCertificate = [&](identity::KeyPair pair) {
    net::post(io, [&, pair = std::move(pair)] {
      if (auto r = srv->setCertificate({pair.certPem, pair.keyPem}); !r) {
        logger->error("discovery keeps its previous certificate: {}", r.error().message);
        return;
      }
      servingFromMesh = true;
    });
  };
  auto certificates =
      std::make_unique<app::Certificates>(std::move(certOptions), certifier, registry);
  certificates->start();
  // Campaigning starts last: nothing can fail after it, so it is always
  // stopped (and the Lease released) before `io` goes away.
  if (kubeApi && leaderElect) {
    leadership = std::make_unique<app::Leadership>(*kubeApi, election, [&](bool leader) {
      // The writer checks isLeader() itself, so writing stops at once; this
      // drops what was queued and tells the reconciler, on its own thread.
      net::post(io, [&, leader] {
        if (!leader) {
          kubeStatus->discard();
        }
        logger->info("{} the lease {}/{}: {}", leader ? "acquired" : "lost", election.ns,
                     election.name, leader ? "writing status and Events" : "serving only");
        controller.setLeader(leader);
      });
      if (leader) {
        certificates->poke();  // make or renew what is missing now, not at the next round
      }
    });
    elected = leadership.get();
    leadership->start();
  }
  controller.startResync(std::chrono::seconds(resyncSeconds));

  net::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> onSignal;
  onSignal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) {
      return;
    }
    if (sig == SIGHUP) {
      // After editing --issuer-dir or the issuer Secret: no wait for the next round.
      logger->info("SIGHUP: checking the mesh issuer and trust bundle now");
      certificates->poke();
      signals.async_wait(onSignal);
      return;
    }
    logger->info("signal {}: shutting down", sig);
    if (leadership) {
      leadership->stop();  // releases the lease: a successor takes over at once
    }
    src->stop();
    certificates->stop();
    controller.stop();
    srv->stop();
    (*admin)->stop();
    io.stop();
  };
  signals.async_wait(onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  if (leadership) {
    leadership->stop();
  }
  src->stop();
  certificates->stop();
  certifyPool.join();
  table.setListener(nullptr);
  logger->info("stopped");
  return 0;
}

}  // namespace weft::op
