#include "colony/rpc/grpc_status.h"

#include <string>

namespace colony::rpc {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

Status FromGrpcStatus(const grpc::Status& status, std::string_view what) {
  if (status.ok()) return OkStatus();
  const Status s(static_cast<StatusCode>(status.error_code()), status.error_message());
  return what.empty() ? s : s.WithContext(what);
}

}  // namespace colony::rpc
