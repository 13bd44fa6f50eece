// Wiring of the data plane: workers, listeners, admin, reload and drain.
#include "proxy/src/app/server.h"

#include <atomic>
#include <csignal>
#include <memory>
#include <vector>

#include "common/json/json.h"
#include "common/log/log.h"
#include "proxy/src/admin/admin_server.h"
#include "proxy/src/app/connection.h"
#include "proxy/src/config/file_watcher.h"
#include "proxy/src/net/address.h"
#include "proxy/src/net/worker.h"
#include "proxy/src/tls/credentials.h"

namespace weft::proxy::app {
namespace {

namespace asio = boost::asio;
using net::Tcp;

asio::awaitable<void> acceptLoop(Tcp::acceptor& acceptor, net::WorkerContext& ctx, bool inbound) {
  auto logger = log::get("proxy");
  for (;;) {
    boost::system::error_code ec;
    Tcp::socket socket = co_await acceptor.async_accept(ecTok(ec));
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      logger->warn("accept: {}", ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(ecTok(ec));
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), handleConnection(ctx, std::move(socket), inbound),
                   [](std::exception_ptr e) {
                     // Last resort: a bug in a connection must not take the worker down.
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         log::get("proxy")->error("connection failed: {}", ex.what());
                       }
                     }
                   });
  }
}

// Enforces connection deadlines (see LiveConnection) on one worker.
asio::awaitable<void> sweepLoop(net::WorkerContext& ctx) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(net::kSweepInterval);
    boost::system::error_code ec;
    co_await timer.async_wait(ecTok(ec));
    if (ec) {
      co_return;
    }
    ctx.sweep(net::SteadyClock::now());
  }
}

// Destroyed bottom-up: acceptors, then the worker (its io_context frees the
// connection frames, which still use ctx), then ctx.
struct WorkerSet {
  std::unique_ptr<net::WorkerContext> ctx;
  std::unique_ptr<net::Worker> worker;
  std::unique_ptr<Tcp::acceptor> outbound;
  std::unique_ptr<Tcp::acceptor> inbound;
};

}  // namespace

Result<int> runServer(const ServerOptions& options) {
  auto logger = log::get("proxy");
  metrics::ProxyMetrics metrics(options.workers + 1);
  net::Settings settings = options.settings;
  settings.workers = options.workers;

  std::vector<WorkerSet> workers(options.workers);
  asio::io_context mainIo{1};
  bool draining = false;  // listeners closed: no new connections
  bool exiting = false;   // stop the process once drained
  std::function<void()> startDrain;
  // A Job's app containers are done (docs/api.md): leave as on POST /shutdown.
  auto leaveIfAppsDone = [&](const config::Snapshot& snapshot) {
    if (snapshot.inbound() != nullptr && snapshot.inbound()->appContainersTerminated) {
      asio::post(mainIo, [&] {
        if (!exiting) {
          logger->info("the pod's app containers have terminated: draining, then exiting");
        }
        startDrain();
      });
    }
  };
  std::unique_ptr<identity::IdentityClient> identityClient;
  std::unique_ptr<discovery::Client> discoveryClient;
  std::atomic<bool> discoveryStarted{false};
  // The trust bundle also arrives with the Inbound document (anchor rotation),
  // for mTLS and, with trust anchors, for the control plane's own certificate.
  auto followBundle = [&](const config::Snapshot& snapshot) {
    if (snapshot.inbound() == nullptr || snapshot.inbound()->trustBundle.empty()) {
      return;
    }
    const auto& bundle = snapshot.inbound()->trustBundle;
    if (identityClient) {
      identityClient->setTrustBundle(bundle);
    }
    if (options.discovery) {
      if (auto followed = options.discovery->trust->follow(bundle); !followed) {
        logger->warn("trust bundle of the Inbound document not used for the control plane: {}",
                     followed.error().message);
      } else if (*followed) {
        logger->info("control plane verified against the mesh trust bundle ({} roots) from now on",
                     bundle.size());
      }
    }
  };
  auto postTable = [&](config::SnapshotPtr snapshot) {
    for (auto& w : workers) {
      asio::post(w.worker->io(), [ctx = w.ctx.get(), snapshot] { ctx->setTable(snapshot); });
    }
    followBundle(*snapshot);
    leaveIfAppsDone(*snapshot);
  };
  if (options.identity) {
    auto c = identity::IdentityClient::create(
        *options.identity, [&](std::shared_ptr<const tls::Credentials> creds) {
          metrics.certificateExpiry.set(
              creds ? static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                              creds->notAfter().time_since_epoch())
                                              .count())
                    : 0.0);
          // New handshakes use these; open connections keep theirs.
          for (auto& w : workers) {
            asio::post(w.worker->io(), [ctx = w.ctx.get(), creds] { ctx->credentials = creds; });
          }
          // Discovery waits for the first certificate: the control plane
          // refuses subscribers without one. Later connections present the
          // newest (see presentCertificate).
          if (creds && !discoveryStarted.exchange(true)) {
            asio::post(mainIo, [&] {
              if (discoveryClient) {
                discoveryClient->start();
              }
            });
          }
        });
    if (!c) {
      return c.error();
    }
    identityClient = std::move(c).value();
  }

  std::unique_ptr<config::FileWatcher> watcher;
  config::SnapshotPtr initial = config::Snapshot::empty();
  if (!options.configFile.empty()) {
    auto w = config::FileWatcher::create(options.configFile, [&](config::SnapshotPtr s) {
      log::get("proxy")->info("config {} applied", s->version());
      postTable(std::move(s));
    });
    if (!w) {
      return w.error();
    }
    watcher = std::move(w).value();
    initial = watcher->current();
  }

  if (options.discovery) {
    auto discoveryOptions = *options.discovery;
    if (identityClient) {
      discoveryOptions.presentCertificate = [id = identityClient.get()](ssl_st* ssl) {
        if (auto c = id->current()) {
          c->present(ssl);
        }
      };
    }
    auto c = discovery::Client::create(std::move(discoveryOptions),
                                       [&](config::SnapshotPtr s) { postTable(std::move(s)); });
    if (!c) {
      return c.error().context("--control-plane");
    }
    discoveryClient = std::move(c).value();
    initial = discoveryClient->current();
    if (!identityClient) {
      logger->info(
          "no workload identity (no --identity-token-file): the control plane must run with "
          "--discovery-client-auth optional, or it refuses these streams");
    }
  }

  // Bind every listener before serving anything; the first worker's port is
  // reused by the others so that port 0 works.
  Tcp::endpoint outboundEp = options.outbound;
  Tcp::endpoint inboundEp = options.inbound;
  for (unsigned i = 0; i < options.workers; ++i) {
    auto& w = workers[i];
    w.worker = std::make_unique<net::Worker>(i);
    w.ctx = std::make_unique<net::WorkerContext>(settings, metrics, i);
    w.ctx->setTable(initial);
    if (discoveryClient) {
      // Thread-safe and non-blocking; the document arrives as a new snapshot.
      w.ctx->subscribe = [client = discoveryClient.get()](const std::string& authority) {
        client->subscribe(authority);
      };
    }
    auto out = net::listenReusePort(w.worker->io(), outboundEp);
    if (!out) {
      return out.error().context("outbound");
    }
    w.outbound = std::move(out).value();
    auto in = net::listenReusePort(w.worker->io(), inboundEp);
    if (!in) {
      return in.error().context("inbound");
    }
    w.inbound = std::move(in).value();
    if (i == 0) {
      outboundEp = w.outbound->local_endpoint();
      inboundEp = w.inbound->local_endpoint();
    }
  }
  settings.ownListeners = {outboundEp, inboundEp};
  settings.mtls = identityClient != nullptr;
  followBundle(*initial);

  std::uint64_t exportedOk = 0;
  std::uint64_t exportedFailed = 0;
  std::function<void()> stopAccepting;
  auto openConnections = [&workers] {
    int live = 0;
    for (auto& w : workers) {
      live += w.ctx->liveCount.load(std::memory_order_relaxed);
    }
    return live;
  };
  admin::Hooks hooks;
  auto hasIdentity = [&] {
    if (!identityClient) {
      return true;
    }
    auto c = identityClient->current();
    return c && c->notAfter() > std::chrono::system_clock::now();
  };
  hooks.ready = [&] { return !draining && hasIdentity(); };
  hooks.metrics = [&] {
    if (watcher) {
      auto ok = watcher->reloadSuccesses();
      auto failed = watcher->reloadFailures();
      metrics.configReloads.inc(ok - exportedOk);
      metrics.configReloadFailures.inc(failed - exportedFailed);
      exportedOk = ok;
      exportedFailed = failed;
    }
    metrics.ready.set(!draining && hasIdentity() ? 1 : 0);
    return metrics.registry.render();
  };
  auto currentTable = [&] {
    if (watcher) {
      return watcher->current();
    }
    if (discoveryClient) {
      return discoveryClient->current();
    }
    return config::Snapshot::empty();
  };
  hooks.config = [&] {
    std::string text = currentTable()->toJson();
    if (!options.discovery) {
      return text;
    }
    auto doc = json::parse(text);
    if (!doc) {
      return text;
    }
    const auto& trust = *options.discovery->trust;
    (*doc)["controlPlane"] = {
        {"verifiedWith", trust.mode() == discovery::ControlPlaneTrust::Mode::kFixed
                             ? "control-plane-ca"
                             : "mesh-trust-bundle"},
        {"rootsSha256", trust.fingerprints()}};
    if (!identityClient) {
      return json::dump(*doc, 2);
    }
    // Never the key: who we are, until when, and which roots we trust.
    json::Json id = json::Json::object();
    if (auto c = identityClient->current()) {
      auto secs = std::chrono::system_clock::to_time_t(c->notAfter());
      std::tm tm{};
      gmtime_r(&secs, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      id["identity"] = c->identity();
      id["notAfter"] = buf;
      id["chainSha256"] = c->chainFingerprints();
      id["trustBundleSha256"] = c->bundleFingerprints();
    } else {
      id["identity"] = nullptr;
      id["requested"] = options.identity->spiffeId;
    }
    (*doc)["workloadIdentity"] = std::move(id);
    return json::dump(*doc, 2);
  };
  hooks.shutdown = [&] { asio::post(mainIo, [&] { startDrain(); }); };
  // The admin server runs on mainIo, like the drain state.
  hooks.drain = [&] {
    stopAccepting();
    return openConnections();
  };
  auto adminServer = admin::AdminServer::create(mainIo, options.admin, hooks);
  if (!adminServer) {
    return adminServer.error();
  }

  for (auto& w : workers) {
    asio::co_spawn(w.worker->io(), acceptLoop(*w.outbound, *w.ctx, false), asio::detached);
    asio::co_spawn(w.worker->io(), acceptLoop(*w.inbound, *w.ctx, true), asio::detached);
    asio::co_spawn(w.worker->io(), sweepLoop(*w.ctx), asio::detached);
    w.worker->start();
  }
  (*adminServer)->start();
  leaveIfAppsDone(*initial);
  if (watcher) {
    watcher->start(std::chrono::milliseconds(500));
  }
  if (discoveryClient && !identityClient) {
    discoveryClient->start();
  }
  if (identityClient) {
    identityClient->start();
  }
  logger->info("weft-proxy listening: outbound {} inbound {} admin {} workers {}",
               net::toString(outboundEp), net::toString(inboundEp),
               net::toString((*adminServer)->localEndpoint()), options.workers);

  asio::steady_timer drainTimer(mainIo);
  auto drainDeadline = net::SteadyClock::time_point::max();
  std::function<void()> checkDrained = [&] {
    int live = openConnections();
    if (live == 0 || net::SteadyClock::now() >= drainDeadline) {
      if (live > 0) {
        logger->warn("drain grace period over: closing {} connections", live);
      }
      (*adminServer)->stop();
      mainIo.stop();
      return;
    }
    drainTimer.expires_after(std::chrono::milliseconds(20));
    drainTimer.async_wait([&](boost::system::error_code ec) {
      if (!ec) {
        checkDrained();
      }
    });
  };
  // POST /drain stops here; the process lives on (admin answering) until
  // SIGTERM or POST /shutdown, so that the kubelet's preStop hook ends first.
  stopAccepting = [&] {
    if (draining) {
      return;
    }
    draining = true;
    logger->info("draining: no new connections, finishing in-flight requests");
    for (auto& w : workers) {
      asio::post(w.worker->io(), [&w] {
        boost::system::error_code ec;
        w.outbound->close(ec);
        w.inbound->close(ec);
        w.ctx->draining = true;
        w.ctx->pool.closeAll();
        for (auto& c : w.ctx->live) {
          if (c.idle && c.socket != nullptr) {
            c.socket->close(ec);
          }
        }
      });
    }
  };
  startDrain = [&] {
    if (exiting) {
      return;
    }
    exiting = true;
    stopAccepting();
    logger->info("shutting down once drained (at most {} ms)", options.drainGrace.count());
    drainDeadline = net::SteadyClock::now() + options.drainGrace;
    checkDrained();
  };

  asio::signal_set signals(mainIo, SIGTERM, SIGINT, SIGHUP);
  std::function<void()> waitSignal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) {
        return;
      }
      if (sig == SIGHUP) {
        if (watcher) {
          auto r = watcher->reload();
          if (!r) {
            logger->error("config reload refused, keeping the old one: {}", r.error().message);
          }
        }
      } else {
        startDrain();
      }
      waitSignal();
    });
  };
  waitSignal();
  ::signal(SIGPIPE, SIG_IGN);

  mainIo.run();
  if (watcher) {
    watcher->stop();
  }
  if (discoveryClient) {
    discoveryClient->stop();
  }
  if (identityClient) {
    identityClient->stop();
  }
  for (auto& w : workers) {
    w.worker->stop();
  }
  for (auto& w : workers) {
    w.worker->join();
  }
  // Pooled upstream sockets belong to their worker's io_context: free them
  // while it still exists (ctx outlives the worker, see WorkerSet).
  for (auto& w : workers) {
    w.ctx->pool.closeAll();
  }
  logger->info("weft-proxy stopped");
  return 0;
}

}  // namespace weft::proxy::app
