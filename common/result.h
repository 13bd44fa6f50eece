// Result<T>: a value or an Error, for failures that are expected (bad input,
// unreachable peers). Exceptions never cross module or async boundaries.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace weft {

enum class ErrorCode {
  kInvalidArgument,  // the caller's input is wrong
  kNotFound,
  kAlreadyExists,
  kConflict,  // optimistic concurrency lost
  kPermissionDenied,
  kUnauthenticated,
  kUnavailable,  // try again later
  kTimeout,
  kParse,  // bytes that do not parse as the format they claim
  kIo,
  kInternal,
};

const char* toString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes the message with where it happened ("config.yaml: line 3: ...").
  [[nodiscard]] Error context(const std::string& where) const {
    return Error{code, where + ": " + message};
  }
  // "kind: message", for logs and user-facing output.
  [[nodiscard]] std::string describe() const;
  friend bool operator==(const Error&, const Error&) = default;
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T valueOr(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> okResult() { return {}; }

}  // namespace weft
