// Bodies: the replay buffer, streaming both ways in pieces (never the whole
// body in memory), 100-continue, and upgrade tunnels.
#include <boost/beast/http.hpp>

#include "proxy/src/http/exchange.h"
#include "proxy/src/http/framing.h"
#include "proxy/src/tcp/relay.h"

namespace weft::proxy::http {
namespace {

namespace asio = boost::asio;
using net::SteadyClock;

}  // namespace

// Reads the next piece of the request body into chunk_; returns its size.
asio::awaitable<std::size_t> Exchange::readBodyPiece(boost::system::error_code& ec) {
  req_.body().data = chunk_.data();
  req_.body().size = chunk_.size();
  live_.expireClientAfter(ctx_.settings.clientIdle);
  co_await bhttp::async_read(client_, buffer_, parser_, ecTok(ec));
  if (ec == bhttp::error::need_buffer) {
    ec = {};
  }
  co_return chunk_.size() - req_.body().size;
}

asio::awaitable<bool> Exchange::readReplayBody() {
  replay_.emplace();
  while (!parser_.is_done()) {
    boost::system::error_code ec;
    std::size_t n = co_await readBodyPiece(ec);
    if (ec) {
      co_return false;
    }
    replay_->append(chunk_.data(), n);
  }
  co_return true;
}

asio::awaitable<bool> Exchange::writeContinue() {
  if (!needContinue_ || sentContinue_) {
    co_return true;
  }
  sentContinue_ = true;
  boost::system::error_code ec;
  live_.expireClientAfter(ctx_.settings.clientIdle);
  co_await asio::async_write(client_, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n", 25), ecTok(ec));
  co_return !ec;
}

// Beast's relay pattern: read a piece of the body, write it on, until done.
asio::awaitable<void> Exchange::streamRequestBody(boost::system::error_code& upstreamEc,
                                                  bool& clientFailed) {
  auto& up = upstream_->stream;
  bhttp::serializer<true, bhttp::buffer_body> sr{req_};
  req_.body().data = nullptr;
  req_.body().more = true;
  live_.expireUpstreamAt(SteadyClock::now() + ctx_.settings.clientIdle);
  co_await bhttp::async_write_header(up, sr, ecTok(upstreamEc));
  if (upstreamEc) {
    co_return;
  }
  do {
    if (!parser_.is_done()) {
      boost::system::error_code ec;
      std::size_t n = co_await readBodyPiece(ec);
      bodyConsumed_ = true;
      if (ec) {
        // Malformed chunking or a vanished client: the upstream connection
        // holds half a request and is dropped with this try.
        clientFailed = true;
        co_return;
      }
      req_.body().size = n;
      req_.body().data = chunk_.data();
      req_.body().more = !parser_.is_done();
    } else {
      req_.body().data = nullptr;
      req_.body().size = 0;
      req_.body().more = false;
    }
    live_.expireUpstreamAt(SteadyClock::now() + ctx_.settings.clientIdle);
    co_await bhttp::async_write(up, sr, ecTok(upstreamEc));
    if (upstreamEc == bhttp::error::need_buffer) {
      upstreamEc = {};
    }
    if (upstreamEc) {
      co_return;
    }
  } while (!sr.is_done());
}

asio::awaitable<bool> Exchange::tunnel() {
  auto& up = upstream_->stream;
  auto& res = rp_->get();
  bhttp::serializer<false, bhttp::buffer_body> sr{res};
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  boost::system::error_code ec;
  live_.expireClientAfter(ctx_.settings.clientIdle);
  co_await bhttp::async_write(client_, sr, ecTok(ec));
  series_->byStatus(101).inc();
  if (ec) {
    co_return false;
  }
  // Bytes already read past the headers belong to the new protocol.
  if (buffer_.size() > 0) {
    co_await asio::async_write(up, buffer_.data(), ecTok(ec));
    buffer_.consume(buffer_.size());
  }
  if (!ec && upBuffer_.size() > 0) {
    co_await asio::async_write(client_, upBuffer_.data(), ecTok(ec));
    upBuffer_.consume(upBuffer_.size());
  }
  if (ec) {
    co_return false;
  }
  live_.expireNever();
  co_await tcp::relay(client_, up, ctx_.settings.clientIdle, {});
  co_return false;
}

asio::awaitable<bool> Exchange::relayResponse() {
  auto& up = upstream_->stream;
  auto& rp = *rp_;
  auto& res = rp.get();
  unsigned status = res.result_int();
  bool upstreamReusable = rp.keep_alive();
  removeHopByHop(res, false);
  if (route_ != nullptr && !route_->responseHeaders().empty()) {
    FieldsView fields(res);
    route_->responseHeaders().apply(fields);
  }
  bool keep = keepClient_ && !rp.need_eof() && !ctx_.draining;
  res.keep_alive(keep);
  series_->byStatus(status).inc();

  bhttp::serializer<false, bhttp::buffer_body> sr{res};
  // The header goes out with the first piece of body (one write for a small
  // response already buffered), as in Beast's relay example.
  boost::system::error_code ec;
  do {
    if (!rp.is_done()) {
      res.body().data = chunk_.data();
      res.body().size = chunk_.size();
      live_.expireUpstreamAt(SteadyClock::now() + ctx_.settings.clientIdle);
      co_await bhttp::async_read(up, upBuffer_, rp, ecTok(ec));
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec && !(ec == bhttp::error::end_of_stream && rp.is_done())) {
        co_return false;  // half a response is out: all we can do is cut the client off
      }
      res.body().size = chunk_.size() - res.body().size;
      res.body().data = chunk_.data();
      res.body().more = !rp.is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
      res.body().more = false;
    }
    live_.expireClientAfter(ctx_.settings.clientIdle);
    co_await bhttp::async_write(client_, sr, ecTok(ec));
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return false;
    }
  } while (!sr.is_done());
  live_.expireNever();
  if (upstreamReusable && rp.is_done() && upBuffer_.size() == 0 && up.socket().is_open()) {
    live_.upstream = nullptr;
    ctx_.pool.put(*entry_, std::move(*upstream_), ctx_.settings.maxIdlePerEndpoint);
    upstream_.reset();
  }
  co_return keep&& parser_.is_done();
}

}  // namespace weft::proxy::http
