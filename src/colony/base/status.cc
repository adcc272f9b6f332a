#include "colony/base/status.h"

#include <cstdio>
#include <cstdlib>

namespace colony {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnknown:
      return "UNKNOWN";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN_CODE";
}

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) rep_ = std::make_shared<Rep>(Rep{code, std::string(message)});
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code())) + ": " + rep_->message;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code(), std::string(context) + ": " + rep_->message);
}

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << status.ToString(); }

#define COLONY_DEFINE_ERROR(Name, code) \
  Status Name(std::string_view message) { return Status(StatusCode::code, message); }
COLONY_DEFINE_ERROR(CancelledError, kCancelled)
COLONY_DEFINE_ERROR(UnknownError, kUnknown)
COLONY_DEFINE_ERROR(InvalidArgumentError, kInvalidArgument)
COLONY_DEFINE_ERROR(DeadlineExceededError, kDeadlineExceeded)
COLONY_DEFINE_ERROR(NotFoundError, kNotFound)
COLONY_DEFINE_ERROR(AlreadyExistsError, kAlreadyExists)
COLONY_DEFINE_ERROR(PermissionDeniedError, kPermissionDenied)
COLONY_DEFINE_ERROR(ResourceExhaustedError, kResourceExhausted)
COLONY_DEFINE_ERROR(FailedPreconditionError, kFailedPrecondition)
COLONY_DEFINE_ERROR(AbortedError, kAborted)
COLONY_DEFINE_ERROR(OutOfRangeError, kOutOfRange)
COLONY_DEFINE_ERROR(UnimplementedError, kUnimplemented)
COLONY_DEFINE_ERROR(InternalError, kInternal)
COLONY_DEFINE_ERROR(UnavailableError, kUnavailable)
COLONY_DEFINE_ERROR(DataLossError, kDataLoss)
COLONY_DEFINE_ERROR(UnauthenticatedError, kUnauthenticated)
#undef COLONY_DEFINE_ERROR

namespace internal {
void DieBadStatusOrAccess(const Status& status) {
  std::fprintf(stderr, "colony: value() on a StatusOr holding an error: %s\n",
               status.ToString().c_str());
  std::abort();
}
void DieOkStatusInStatusOr() {
  std::fprintf(stderr, "colony: StatusOr constructed from an OK status\n");
  std::abort();
}
}  // namespace internal

}  // namespace colony
