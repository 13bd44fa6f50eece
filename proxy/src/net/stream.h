// A connection's byte stream, plaintext or TLS, with one type so that the
// HTTP/1 and TCP paths serve both: it satisfies Beast's AsyncReadStream and
// AsyncWriteStream by forwarding to the socket or the TLS stream over it.
// Used on the connection's worker only.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ssl/stream.hpp>

#include "common/asio.h"

namespace weft::proxy::net {

class Stream {
 public:
  using Tcp = boost::asio::ip::tcp;
  using TlsStream = boost::asio::ssl::stream<Tcp::socket>;
  using executor_type = Tcp::socket::executor_type;

  explicit Stream(Tcp::socket socket) : plain_(std::move(socket)) {}
  // TLS over `socket`; the handshake is the caller's.
  Stream(Tcp::socket socket, boost::asio::ssl::context& ctx)
      : tls_(std::make_unique<TlsStream>(std::move(socket), ctx)) {}
  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  executor_type get_executor() { return socket().get_executor(); }
  // The TCP socket underneath: options, deadlines (closing it ends any TLS
  // operation too), addresses.
  Tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  bool isTls() const { return tls_ != nullptr; }
  TlsStream& tls() { return *tls_; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) {
      return tls_->async_read_some(buffers, std::forward<Token>(token));
    }
    return plain_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_) {
      return tls_->async_write_some(buffers, std::forward<Token>(token));
    }
    return plain_->async_write_some(buffers, std::forward<Token>(token));
  }

  // Ends our sending direction. Under TLS this is a TCP half-close without
  // close_notify (asio would wait for the peer's): the peer sees a truncated
  // stream, which the relay treats as the end of data.
  void shutdownSend() {
    boost::system::error_code ignored;
    socket().shutdown(Tcp::socket::shutdown_send, ignored);
  }
  void close() {
    boost::system::error_code ignored;
    socket().close(ignored);
  }

 private:
  std::optional<Tcp::socket> plain_;
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace weft::proxy::net
