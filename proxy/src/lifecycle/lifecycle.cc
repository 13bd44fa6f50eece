// Blocking Beast client with a deadline on every exchange: these commands run
// alone in a hook, so there is nothing else for a thread to do.
#include "proxy/src/lifecycle/lifecycle.h"

#include <thread>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/api/duration.h"
#include "common/asio.h"

namespace weft::proxy::lifecycle {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;

Result<asio::ip::tcp::endpoint> parseAdmin(const std::string& text) {
  auto colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return makeError(
        ErrorCode::kInvalidArgument,
        "--admin: expected IP:PORT (e.g. 127.0.0.1:15100), got \"" + text + "\": " + why);
  };
  if (colon == std::string::npos || colon == 0) {
    return bad("no port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return bad("not an IP address");
  }
  std::string portText = text.substr(colon + 1);
  if (portText.empty() || portText.size() > 5 ||
      portText.find_first_not_of("0123456789") != std::string::npos || std::stoul(portText) == 0 ||
      std::stoul(portText) > 65535) {
    return bad("bad port");
  }
  return asio::ip::tcp::endpoint(address, static_cast<unsigned short>(std::stoul(portText)));
}

struct Answer {
  bool refused = false;  // nothing listens
  int status = 0;
  std::string body;
};

// One request on a fresh connection, bounded by `limit`; an Error for
// anything but a response or a refused connection.
Result<Answer> exchange(const asio::ip::tcp::endpoint& ep, bhttp::verb method,
                        const std::string& target, std::chrono::milliseconds limit) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(limit);
  Answer out;
  boost::system::error_code failure;
  stream.async_connect(ep, [&](boost::system::error_code ec) {
    if (ec) {
      out.refused = ec == asio::error::connection_refused;
      failure = ec;
      return;
    }
    auto req = std::make_shared<bhttp::request<bhttp::empty_body>>(method, target, 11);
    req->set(bhttp::field::host, "localhost");
    req->set(bhttp::field::user_agent, "weft-proxy-lifecycle");
    bhttp::async_write(stream, *req, [&, req](boost::system::error_code wec, std::size_t) {
      if (wec) {
        failure = wec;
        return;
      }
      auto buffer = std::make_shared<beast::flat_buffer>();
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
      bhttp::async_read(stream, *buffer, *res,
                        [&, buffer, res](boost::system::error_code rec, std::size_t) {
                          if (rec) {
                            failure = rec;
                            return;
                          }
                          out.status = res->result_int();
                          out.body = res->body();
                        });
    });
  });
  io.run();
  if (out.refused) {
    return out;
  }
  if (failure) {
    return makeError(
        ErrorCode::kUnavailable,
        (failure == beast::error::timeout ? std::string("no answer") : failure.message()));
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// The time one exchange may take: the poll interval, at least 1 s, never
// past the deadline.
std::chrono::milliseconds exchangeLimit(const LifecycleOptions& o, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(std::chrono::milliseconds(1),
                  std::min(left, std::max(o.interval, std::chrono::milliseconds(1000))));
}

}  // namespace

Result<void> waitReady(const LifecycleOptions& options) {
  auto ep = parseAdmin(options.admin);
  if (!ep) {
    return ep.error();
  }
  const auto deadline = Clock::now() + options.timeout;
  std::string last = "no answer";
  for (;;) {
    auto answer = exchange(*ep, bhttp::verb::get, "/ready", exchangeLimit(options, deadline));
    if (answer && !answer->refused && answer->status == 200) {
      return {};
    }
    if (!answer) {
      last = answer.error().message;
    } else if (answer->refused) {
      last = "connection refused";
    } else {
      last = "HTTP " + std::to_string(answer->status) + " " + trimmed(answer->body);
    }
    if (Clock::now() + options.interval >= deadline) {
      return makeError(ErrorCode::kTimeout, "proxy at " + options.admin + " not ready after " +
                                                api::formatDuration(options.timeout) +
                                                " (last answer to GET /ready: " + last + ")");
    }
    std::this_thread::sleep_for(options.interval);
  }
}

Result<DrainOutcome> drain(const LifecycleOptions& options) {
  auto ep = parseAdmin(options.admin);
  if (!ep) {
    return ep.error();
  }
  const auto deadline = Clock::now() + options.timeout;
  std::string last = "no answer";
  for (;;) {
    auto answer = exchange(*ep, bhttp::verb::post, "/drain", exchangeLimit(options, deadline));
    if (answer && answer->refused) {
      // No proxy (never started, or already exited): nothing left to drain.
      return DrainOutcome{true};
    }
    if (answer && answer->status == 200) {
      return DrainOutcome{};
    }
    if (answer && answer->status != 202) {
      return makeError(ErrorCode::kPermissionDenied,
                       "proxy at " + options.admin + " refused POST /drain: HTTP " +
                           std::to_string(answer->status) + " " + trimmed(answer->body));
    }
    last = answer ? trimmed(answer->body) : answer.error().message;
    if (Clock::now() + options.interval >= deadline) {
      return makeError(ErrorCode::kTimeout, "proxy at " + options.admin + " not drained after " +
                                                api::formatDuration(options.timeout) + " (" + last +
                                                ")");
    }
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace weft::proxy::lifecycle
