// Concurrent scrapes on one io_context, all ended by run_for(timeout).
#include "cli/src/scrape.h"

#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/api/duration.h"
#include "common/asio.h"

namespace weft::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Large enough for a proxy with thousands of series; a bigger body is not ours.
constexpr std::uint64_t kMaxBody = 32 * 1024 * 1024;

Error failed(const std::string& why) { return makeError(ErrorCode::kUnavailable, why); }

std::string describe(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) {
    return "connection refused";
  }
  if (ec == asio::error::connection_reset || ec == http::error::end_of_stream ||
      ec == asio::error::eof) {
    return "connection closed before an answer";
  }
  return ec.message();
}

asio::awaitable<void> scrapeOne(const api::HostPort& target, const std::string& path,
                                std::optional<Result<std::string>>& out) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  auto endpoints =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), ecTok(ec));
  if (ec) {
    out = failed("cannot resolve " + target.host + ": " + ec.message());
    co_return;
  }
  beast::tcp_stream stream(executor);
  co_await stream.async_connect(endpoints, ecTok(ec));
  if (ec) {
    out = failed(describe(ec));
    co_return;
  }
  http::request<http::empty_body> request{http::verb::get, path, 11};
  request.set(http::field::host, target.str());
  request.set(http::field::connection, "close");
  co_await http::async_write(stream, request, ecTok(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(kMaxBody);
  if (!ec) {
    co_await http::async_read(stream, buffer, parser, ecTok(ec));
  }
  if (ec) {
    out = failed(describe(ec));
    co_return;
  }
  auto& response = parser.get();
  if (response.result_int() != 200) {
    out = failed("HTTP " + std::to_string(response.result_int()) + " from " + path);
    co_return;
  }
  out = std::move(response.body());
}

}  // namespace

std::vector<Result<std::string>> scrapeAll(const std::vector<api::HostPort>& targets,
                                           const std::string& path,
                                           std::chrono::milliseconds timeout) {
  std::vector<std::optional<Result<std::string>>> results(targets.size());
  {
    asio::io_context io;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      asio::co_spawn(io, scrapeOne(targets[i], path, results[i]), asio::detached);
    }
    io.run_for(timeout);
    // Unfinished scrapes are abandoned here: their frames and sockets go with io.
  }
  std::vector<Result<std::string>> out;
  out.reserve(results.size());
  for (auto& r : results) {
    out.push_back(
        r ? std::move(*r)
          : Result<std::string>(failed("no answer within " + api::formatDuration(timeout))));
  }
  return out;
}

}  // namespace weft::cli
