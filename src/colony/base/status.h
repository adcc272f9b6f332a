// Status and StatusOr: how colony reports errors across layer boundaries.
// The codes are the gRPC codes, so the RPC edge maps one to one.
//   COLONY_ASSIGN_OR_RETURN(auto table, SparseTable::Create(options));
//   COLONY_RETURN_IF_ERROR(table->Push(ids, grads));
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace colony {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

std::string_view StatusCodeName(StatusCode code);

// An OK status holds no allocation; an error holds a code and a message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view message);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;
  // Drops the status on purpose; say why in a comment at the call.
  void IgnoreError() const {}

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

inline Status OkStatus() { return Status(); }
Status CancelledError(std::string_view message);
Status UnknownError(std::string_view message);
Status InvalidArgumentError(std::string_view message);
Status DeadlineExceededError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status PermissionDeniedError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status AbortedError(std::string_view message);
Status OutOfRangeError(std::string_view message);
Status UnimplementedError(std::string_view message);
Status InternalError(std::string_view message);
Status UnavailableError(std::string_view message);
Status DataLossError(std::string_view message);
Status UnauthenticatedError(std::string_view message);

inline bool IsInvalidArgument(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }
inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool IsOutOfRange(const Status& s) { return s.code() == StatusCode::kOutOfRange; }
inline bool IsFailedPrecondition(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition;
}
inline bool IsDataLoss(const Status& s) { return s.code() == StatusCode::kDataLoss; }
inline bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

std::ostream& operator<<(std::ostream& os, const Status& status);

// Holds a T or a non-OK Status. value() on an error aborts with the status message.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : status_(status) { CheckNotOk(); }        // NOLINT
  StatusOr(Status&& status) : status_(std::move(status)) { CheckNotOk(); }  // NOLINT
  StatusOr(const T& value) : value_(value) {}                               // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}                         // NOLINT
  template <typename U>
  requires(std::is_convertible_v<U&&, T> && !std::is_same_v<std::decay_t<U>, Status> &&
           !std::is_same_v<std::decay_t<U>, T> && !std::is_same_v<std::decay_t<U>, StatusOr>)
      StatusOr(U&& value)
      : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& {
    EnsureOk();
    return *value_;
  }
  T& value() & {
    EnsureOk();
    return *value_;
  }
  T&& value() && {
    EnsureOk();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckNotOk();
  void EnsureOk() const;

  Status status_;
  std::optional<T> value_;
};

namespace internal {
[[noreturn]] void DieBadStatusOrAccess(const Status& status);
[[noreturn]] void DieOkStatusInStatusOr();
}  // namespace internal

template <typename T>
void StatusOr<T>::CheckNotOk() {
  if (status_.ok()) internal::DieOkStatusInStatusOr();
}

template <typename T>
void StatusOr<T>::EnsureOk() const {
  if (!status_.ok()) internal::DieBadStatusOrAccess(status_);
}

}  // namespace colony

#define COLONY_STATUS_CONCAT_INNER(a, b) a##b
#define COLONY_STATUS_CONCAT(a, b) COLONY_STATUS_CONCAT_INNER(a, b)

#define COLONY_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::colony::Status colony_status_ = (expr);        \
    if (!colony_status_.ok()) return colony_status_; \
  } while (0)

#define COLONY_ASSIGN_OR_RETURN(lhs, expr) \
  COLONY_ASSIGN_OR_RETURN_IMPL(COLONY_STATUS_CONCAT(colony_statusor_, __LINE__), lhs, expr)

#define COLONY_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
