// qnet::Result<T> and qnet::Status: errors as values.
//
// Shaped like std::expected (has_value, value, error, and_then, transform,
// or_else) so it can become an alias one day; our own because GCC 12's
// <expected> lacks the monadic operations and clang 14 cannot compile it.
// Not thread-safe beyond what the contained types are.
#pragma once

#include <fmt/format.h>

#include <cassert>  // kept: files that assert invariants get it from here
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace qnet {

enum class Errc {
  kInvalidArgument,  // bad input: config, rule, message, file name
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kIo,        // a syscall failed; errno set
  kNetlink,   // the kernel refused a netlink request; errno set
  kProtocol,  // a peer sent something malformed
  kTimeout,
  kUnavailable,  // a needed process or service is not there
  kFailedPrecondition,
  kInternal,
};

const char* ErrcName(Errc code);

// An error: a code, the errno if any (0 otherwise), and a message that
// carries its context, outermost first ("agent sys-net: nft: ...: EPERM").
class Error {
 public:
  Error(Errc code, std::string message, int sys_errno = 0)
      : code_(code), errno_(sys_errno), message_(std::move(message)) {}

  Errc code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message".
  Error Wrap(std::string_view context) const {
    return Error(code_, fmt::format("{}: {}", context, message_), errno_);
  }

 private:
  Errc code_;
  int errno_;
  std::string message_;
};

// An Error from errno, message "what: strerror(errno)".
Error ErrnoError(std::string_view what, int sys_errno);

namespace internal {
// Called when a Result's value is read while it holds an error, or its
// error while it holds a value: prints what was asked for (and the error's
// message, if any) to stderr and aborts, in every build type. Never UB.
[[noreturn]] void BadResultAccess(const char* accessor, const Error* held);
}  // namespace internal

template <typename E>
struct Unexpected {
  E error;
};
inline Unexpected<Error> Fail(Error e) { return {std::move(e)}; }
inline Unexpected<Error> Fail(Errc code, std::string message, int sys_errno = 0) {
  return {Error(code, std::move(message), sys_errno)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}                // NOLINT
  Result(Unexpected<Error> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}                    // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> &&
           !std::is_same_v<std::decay_t<U>, Unexpected<Error>> &&
           !std::is_same_v<std::decay_t<U>, Result>) Result(U&& u)
      : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // value() and error() check which alternative is held, in release builds
  // too: the wrong one aborts with a message (internal::BadResultAccess).
  T& value() & {
    CheckValue();
    return *std::get_if<0>(&v_);
  }
  const T& value() const& {
    CheckValue();
    return *std::get_if<0>(&v_);
  }
  T&& value() && {
    CheckValue();
    return std::move(*std::get_if<0>(&v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    if (has_value()) internal::BadResultAccess("Result::error()", nullptr);
    return *std::get_if<1>(&v_);
  }
  Error&& error() && {
    if (has_value()) internal::BadResultAccess("Result::error()", nullptr);
    return std::move(*std::get_if<1>(&v_));
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  template <typename F>
  auto and_then(F&& f) & {
    return has_value() ? f(value()) : decltype(f(value()))(error());
  }
  template <typename F>
  auto and_then(F&& f) const& {
    return has_value() ? f(value()) : decltype(f(value()))(error());
  }
  template <typename F>
  auto and_then(F&& f) && {
    using R = decltype(f(std::move(*this).value()));
    return has_value() ? f(std::move(*this).value()) : R(std::move(*this).error());
  }

  template <typename F>
  auto transform(F&& f) const& {
    using U = std::remove_cvref_t<decltype(f(value()))>;
    if constexpr (std::is_void_v<U>) {
      if (!has_value()) return Result<std::monostate>(error());
      f(value());
      return Result<std::monostate>(std::monostate{});
    } else {
      return has_value() ? Result<U>(f(value())) : Result<U>(error());
    }
  }

  template <typename F>
  Result or_else(F&& f) const& {
    return has_value() ? *this : Result(f(error()));
  }

 private:
  void CheckValue() const {
    if (!has_value()) internal::BadResultAccess("Result::value()", std::get_if<1>(&v_));
  }

  std::variant<T, Error> v_;
};

// Status: a Result with no value. OkStatus() is success.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Unexpected<Error> e) : err_(std::move(e.error)), ok_(false) {}  // NOLINT
  Status(Error e) : err_(std::move(e)), ok_(false) {}                    // NOLINT
  template <typename T>
  Status(const Result<T>& r) : ok_(r.has_value()) {  // NOLINT
    if (!ok_) err_ = r.error();
  }

  bool has_value() const { return ok_; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    if (ok_) internal::BadResultAccess("Status::error()", nullptr);
    return err_;
  }

  template <typename F>
  auto and_then(F&& f) const {
    return ok_ ? f() : decltype(f())(err_);
  }
  template <typename F>
  Status or_else(F&& f) const {
    return ok_ ? *this : Status(f(err_));
  }

 private:
  Error err_{Errc::kInternal, ""};
  bool ok_ = true;
};

inline Status OkStatus() { return Status(); }

}  // namespace qnet

// Propagates an error from a Result/Status expression; for a Result binds the value.
#define QNET_CONCAT_INNER(a, b) a##b
#define QNET_CONCAT(a, b) QNET_CONCAT_INNER(a, b)
#define QNET_TRY(expr)                                                                           \
  do {                                                                                           \
    auto qnet_try_status_ = (expr);                                                              \
    if (!qnet_try_status_.has_value()) return ::qnet::Fail(std::move(qnet_try_status_).error()); \
  } while (0)
#define QNET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                   \
  auto tmp = (expr);                                                 \
  if (!tmp.has_value()) return ::qnet::Fail(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
#define QNET_ASSIGN_OR_RETURN(lhs, expr) \
  QNET_ASSIGN_OR_RETURN_IMPL(QNET_CONCAT(qnet_result_, __LINE__), lhs, expr)
