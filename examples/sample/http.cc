// HTTP/1.1 messages for weft-sample (RFC 9112), strict where framing is at stake.
#include "examples/sample/http.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/strings.h"

namespace weft::sample {
namespace {

Error bad(std::string message) { return makeError(ErrorCode::kParse, std::move(message)); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Lines of a head; a bare LF ends a line too (RFC 9112 section 2.2).
std::vector<std::string_view> splitLines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    if (lf == std::string_view::npos) {
      break;
    }
    head.remove_prefix(lf + 1);
  }
  return lines;
}

Result<int> parseVersion(std::string_view v) {
  if (v == "HTTP/1.1") {
    return 1;
  }
  if (v == "HTTP/1.0") {
    return 0;
  }
  return bad("unsupported HTTP version \"" + std::string(v.substr(0, 16)) + "\"");
}

Result<Headers> parseFields(const std::vector<std::string_view>& lines) {
  Headers out;
  if (lines.size() - 1 > kMaxHeaders) {
    return bad("more than " + std::to_string(kMaxHeaders) + " header fields");
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      return bad("obsolete line folding in header field " + std::to_string(i));
    }
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || !isToken(name)) {
      return bad("malformed header field " + std::to_string(i));
    }
    std::string_view value = trimOws(line.substr(colon + 1));
    for (char c : value) {
      if (c == '\0' || c == '\r' || c == '\n') {
        return bad("control character in the value of " + std::string(name));
      }
    }
    out.fields.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

// All Content-Length values (repeated fields, comma lists) must agree.
Result<std::optional<std::size_t>> contentLength(const Headers& headers) {
  std::optional<std::size_t> out;
  for (const auto& [name, value] : headers.fields) {
    if (!iequals(name, "content-length")) {
      continue;
    }
    std::string_view rest = value;
    while (true) {
      auto comma = rest.find(',');
      std::string_view item = trimOws(rest.substr(0, comma));
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
      if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
        return bad("invalid Content-Length \"" + value + "\"");
      }
      if (out && *out != n) {
        return bad("conflicting Content-Length values");
      }
      out = n;
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

// The last transfer coding of all Transfer-Encoding fields, or "" when absent.
std::string lastTransferCoding(const Headers& headers) {
  std::string last;
  for (const auto& [name, value] : headers.fields) {
    if (iequals(name, "transfer-encoding")) {
      auto comma = value.rfind(',');
      last = std::string(trimOws(comma == std::string::npos
                                     ? std::string_view(value)
                                     : std::string_view(value).substr(comma + 1)));
      if (last.empty()) {
        last = "(empty)";
      }
    }
  }
  return last;
}

bool hasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (iequals(trimOws(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool keepAliveOf(int minorVersion, const Headers& headers) {
  std::string connection = headers.get("connection");
  if (hasToken(connection, "close")) {
    return false;
  }
  return minorVersion >= 1 || hasToken(connection, "keep-alive");
}

}  // namespace

std::string Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (iequals(k, name)) {
      return v;
    }
  }
  return "";
}

bool Headers::has(std::string_view name) const {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const auto& f) { return iequals(f.first, name); });
}

bool Request::keepAlive() const { return keepAliveOf(minorVersion, headers); }
bool Response::keepAlive() const { return keepAliveOf(minorVersion, headers); }

Result<Request> parseRequestHead(std::string_view head) {
  auto lines = splitLines(head);
  if (lines.empty()) {
    return bad("empty request");
  }
  std::string_view start = lines.front();
  auto sp1 = start.find(' ');
  auto sp2 = start.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) {
    return bad("malformed request line");
  }
  Request r;
  r.method = std::string(start.substr(0, sp1));
  r.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
  if (!isToken(r.method)) {
    return bad("malformed method");
  }
  if (r.target.empty() || std::any_of(r.target.begin(), r.target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
      })) {
    return bad("malformed request target");
  }
  auto version = parseVersion(start.substr(sp2 + 1));
  if (!version) {
    return version.error();
  }
  r.minorVersion = *version;
  auto fields = parseFields(lines);
  if (!fields) {
    return fields.error();
  }
  r.headers = std::move(*fields);
  return r;
}

Result<Response> parseResponseHead(std::string_view head) {
  auto lines = splitLines(head);
  if (lines.empty()) {
    return bad("empty response");
  }
  std::string_view start = lines.front();
  // "HTTP/1.1 200 OK": the reason phrase may be empty, the status has three digits.
  if (start.size() < 12 || start[8] != ' ' || (start.size() > 12 && start[12] != ' ')) {
    return bad("malformed status line \"" + std::string(start.substr(0, 40)) + "\"");
  }
  auto version = parseVersion(start.substr(0, 8));
  if (!version) {
    return version.error();
  }
  Response r;
  r.minorVersion = *version;
  std::string_view code = start.substr(9, 3);
  auto [end, ec] = std::from_chars(code.data(), code.data() + 3, r.status);
  if (ec != std::errc() || end != code.data() + 3 || r.status < 100) {
    return bad("malformed status code \"" + std::string(code) + "\"");
  }
  r.reason = start.size() > 13 ? std::string(start.substr(13)) : "";
  auto fields = parseFields(lines);
  if (!fields) {
    return fields.error();
  }
  r.headers = std::move(*fields);
  return r;
}

Result<Framing> requestFraming(const Request& request) {
  std::string coding = lastTransferCoding(request.headers);
  auto length = contentLength(request.headers);
  if (!length) {
    return length.error();
  }
  if (!coding.empty()) {
    if (request.minorVersion == 0) {
      return bad("Transfer-Encoding in an HTTP/1.0 request");
    }
    if (!iequals(coding, "chunked")) {
      return bad("the request's last transfer coding is \"" + coding + "\", not chunked");
    }
    if (*length) {
      return bad("both Transfer-Encoding and Content-Length");
    }
    return Framing{Framing::Kind::kChunked, 0};
  }
  if (*length) {
    return Framing{Framing::Kind::kLength, **length};
  }
  return Framing{};
}

Result<Framing> responseFraming(const Response& response, bool toHead) {
  if (toHead || response.status < 200 || response.status == 204 || response.status == 304) {
    return Framing{};
  }
  std::string coding = lastTransferCoding(response.headers);
  if (!coding.empty()) {
    return Framing{
        iequals(coding, "chunked") ? Framing::Kind::kChunked : Framing::Kind::kUntilClose, 0};
  }
  auto length = contentLength(response.headers);
  if (!length) {
    return length.error();
  }
  if (*length) {
    return Framing{Framing::Kind::kLength, **length};
  }
  return Framing{Framing::Kind::kUntilClose, 0};
}

Result<bool> decodeChunked(std::string& in, std::string& out, std::size_t maxBody) {
  for (;;) {
    auto eol = in.find("\r\n");
    if (eol == std::string::npos) {
      if (in.size() > 1024) {
        return bad("chunk size line too long");
      }
      return false;
    }
    std::string_view sizeText = std::string_view(in).substr(0, eol);
    sizeText = sizeText.substr(0, sizeText.find(';'));  // chunk extensions are ignored
    sizeText = trimOws(sizeText);
    std::size_t size = 0;
    if (sizeText.empty() || sizeText.size() > 8) {
      return bad("malformed chunk size");
    }
    for (char c : sizeText) {
      int d = hexDigitValue(c);
      if (d < 0) {
        return bad("malformed chunk size");
      }
      size = size * 16 + static_cast<std::size_t>(d);
    }
    if (size > maxBody || out.size() + size > maxBody) {
      return bad("body larger than " + std::to_string(maxBody) + " bytes");
    }
    if (size == 0) {
      // Trailer fields, then an empty line: `end` is where that empty line starts.
      std::size_t end = eol + 2;
      if (in.compare(end, 2, "\r\n") != 0) {
        auto blank = in.find("\r\n\r\n", eol);
        end = blank == std::string::npos ? blank : blank + 2;
      }
      if (end == std::string::npos || end + 2 > in.size()) {
        if (in.size() > kMaxHeadBytes) {
          return bad("trailer fields too large");
        }
        return false;
      }
      in.erase(0, end + 2);
      return true;
    }
    if (in.size() < eol + 2 + size + 2) {
      return false;
    }
    if (in.compare(eol + 2 + size, 2, "\r\n") != 0) {
      return bad("chunk data not followed by CRLF");
    }
    out.append(in, eol + 2, size);
    in.erase(0, eol + 2 + size + 2);
  }
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

std::string formatResponse(int status, const Headers& headers, std::string_view body, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  for (const auto& [k, v] : headers.fields) {
    out += k + ": " + v + "\r\n";
  }
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

std::string formatRequest(std::string_view method, std::string_view target, std::string_view host,
                          const Headers& headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  out += "\r\n";
  for (const auto& [k, v] : headers.fields) {
    out += k + ": " + v + "\r\n";
  }
  out += "\r\n";
  return out;
}

void Connection::close() {
  socket_.reset();
  buf_.clear();
}

Io Connection::readHead(std::string& head, Deadline deadline) {
  for (;;) {
    // Empty lines before a message are skipped (RFC 9112 section 2.2).
    while (buf_.rfind("\r\n", 0) == 0) {
      buf_.erase(0, 2);
    }
    auto end = buf_.find("\r\n\r\n");
    if (end != std::string::npos) {
      if (end > kMaxHeadBytes) {
        return Io::kTooLarge;
      }
      head = buf_.substr(0, end);
      buf_.erase(0, end + 4);
      return Io::kOk;
    }
    if (buf_.size() > kMaxHeadBytes) {
      return Io::kTooLarge;
    }
    if (Io io = readSome(socket_.fd(), buf_, deadline); io != Io::kOk) {
      return io;
    }
  }
}

Io Connection::readBody(const Framing& framing, std::string& body, Deadline deadline,
                        std::size_t maxBody, std::string* why) {
  switch (framing.kind) {
    case Framing::Kind::kNone:
      return Io::kOk;
    case Framing::Kind::kLength:
      if (framing.length > maxBody) {
        *why = "body of " + std::to_string(framing.length) + " bytes, the limit is " +
               std::to_string(maxBody);
        return Io::kTooLarge;
      }
      while (buf_.size() < framing.length) {
        if (Io io = readSome(socket_.fd(), buf_, deadline); io != Io::kOk) {
          return io;
        }
      }
      body = buf_.substr(0, framing.length);
      buf_.erase(0, framing.length);
      return Io::kOk;
    case Framing::Kind::kChunked:
      for (;;) {
        auto done = decodeChunked(buf_, body, maxBody);
        if (!done) {
          *why = done.error().message;
          return Io::kBadMessage;
        }
        if (*done) {
          return Io::kOk;
        }
        if (Io io = readSome(socket_.fd(), buf_, deadline); io != Io::kOk) {
          return io;
        }
      }
    case Framing::Kind::kUntilClose:
      for (;;) {
        if (buf_.size() > maxBody) {
          *why = "body larger than " + std::to_string(maxBody) + " bytes";
          return Io::kTooLarge;
        }
        Io io = readSome(socket_.fd(), buf_, deadline);
        if (io == Io::kClosed) {
          body = std::move(buf_);
          buf_.clear();
          socket_.reset();
          return Io::kOk;
        }
        if (io != Io::kOk) {
          return io;
        }
      }
  }
  return Io::kBadMessage;
}

Io Connection::readRequest(Request& out, Deadline idleUntil, std::chrono::milliseconds readTimeout,
                           int stopFd, std::string* why) {
  if (buf_.empty()) {
    if (Io io = readSome(socket_.fd(), buf_, idleUntil, stopFd); io != Io::kOk) {
      return io;
    }
  }
  Deadline deadline = Clock::now() + readTimeout;
  std::string head;
  if (Io io = readHead(head, deadline); io != Io::kOk) {
    if (io == Io::kTooLarge) {
      *why = "request head larger than " + std::to_string(kMaxHeadBytes) + " bytes";
    }
    return io;
  }
  auto request = parseRequestHead(head);
  if (!request) {
    *why = request.error().message;
    return Io::kBadMessage;
  }
  auto framing = requestFraming(*request);
  if (!framing) {
    *why = framing.error().message;
    return Io::kBadMessage;
  }
  out = std::move(*request);
  return readBody(*framing, out.body, deadline, kMaxBodyBytes, why);
}

Io Connection::readResponse(Response& out, Deadline deadline, bool toHead, std::size_t maxBody,
                            bool* gotBytes) {
  std::string why;
  *gotBytes = !buf_.empty();
  for (;;) {
    std::string head;
    std::size_t before = buf_.size();
    Io io = readHead(head, deadline);
    *gotBytes = *gotBytes || buf_.size() != before || !head.empty();
    if (io != Io::kOk) {
      return io == Io::kTooLarge ? Io::kBadMessage : io;
    }
    auto response = parseResponseHead(head);
    if (!response) {
      return Io::kBadMessage;
    }
    if (response->status >= 100 && response->status < 200 && response->status != 101) {
      continue;  // interim responses (100 Continue) precede the real one
    }
    auto framing = responseFraming(*response, toHead);
    if (!framing) {
      return Io::kBadMessage;
    }
    out = std::move(*response);
    io = readBody(*framing, out.body, deadline, maxBody, &why);
    return io == Io::kTooLarge ? Io::kBadMessage : io;
  }
}

}  // namespace weft::sample
