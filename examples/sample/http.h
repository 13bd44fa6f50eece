// The HTTP/1.1 that weft-sample speaks: parsing heads and bodies (Content-Length
// or chunked) with limits, and a buffered connection that reads whole messages
// by a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "examples/sample/net.h"

namespace weft::sample {

inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaders = 100;
inline constexpr std::size_t kMaxBodyBytes = 1024 * 1024;

struct Headers {
  std::vector<std::pair<std::string, std::string>> fields;  // in order received
  // The first value of `name` (case-insensitive), or "".
  std::string get(std::string_view name) const;
  bool has(std::string_view name) const;
};

struct Request {
  std::string method;
  std::string target;
  int minorVersion = 1;  // HTTP/1.x
  Headers headers;
  std::string body;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keepAlive() const;
};

struct Response {
  int status = 0;
  std::string reason;
  int minorVersion = 1;
  Headers headers;
  std::string body;
  bool keepAlive() const;
};

// How a body is delimited, from the head's fields.
struct Framing {
  enum class Kind { kNone, kLength, kChunked, kUntilClose } kind = Kind::kNone;
  std::size_t length = 0;
};

// Parses a head (everything before the blank line, without it). Errors name
// the problem: a malformed start line, a bad field, conflicting framing.
Result<Request> parseRequestHead(std::string_view head);
Result<Response> parseResponseHead(std::string_view head);
Result<Framing> requestFraming(const Request& request);
// HEAD responses and 1xx/204/304 have no body whatever they say.
Result<Framing> responseFraming(const Response& response, bool toHead);

// Decodes a chunked body incrementally: consumes whole chunks from `in` into
// `out`. Returns true once the last chunk and trailers are consumed, false
// when more input is needed; an error on malformed input or past maxBody.
Result<bool> decodeChunked(std::string& in, std::string& out, std::size_t maxBody);

// Serializes a response with Content-Length; `close` adds "Connection: close".
std::string formatResponse(int status, const Headers& headers, std::string_view body, bool close);
std::string formatRequest(std::string_view method, std::string_view target, std::string_view host,
                          const Headers& headers);
const char* reasonPhrase(int status);

// A connection with its read buffer. Not thread-safe: one user at a time.
class Connection {
 public:
  Connection() = default;
  explicit Connection(Socket socket) : socket_(std::move(socket)) {}

  bool open() const { return socket_.open(); }
  void close();
  int fd() const { return socket_.fd(); }
  // True when bytes of a next message (or anything) are already buffered.
  bool hasBuffered() const { return !buf_.empty(); }

  // Waits for a request until idleUntil (kStopped if stopFd fires first),
  // then reads all of it within readTimeout of its first byte.
  // kBadMessage/kTooLarge leave the reason in *why.
  Io readRequest(Request& out, Deadline idleUntil, std::chrono::milliseconds readTimeout,
                 int stopFd, std::string* why);
  // Reads a response by `deadline`; *gotBytes tells whether anything arrived.
  Io readResponse(Response& out, Deadline deadline, bool toHead, std::size_t maxBody,
                  bool* gotBytes);
  Io write(std::string_view data, Deadline deadline) {
    return writeAll(socket_.fd(), data, deadline);
  }

 private:
  Io readHead(std::string& head, Deadline deadline);
  Io readBody(const Framing& framing, std::string& body, Deadline deadline, std::size_t maxBody,
              std::string* why);

  Socket socket_;
  std::string buf_;
};

}  // namespace weft::sample
