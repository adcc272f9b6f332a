// Serve: the body of every handler of every colony service goes through it. It checks the
// token, runs the body, turns an exception it throws (std::bad_alloc, a library's throw) into
// Internal with the exception's what() (the server keeps serving), and converts the Status.
//   grpc::Status Push(grpc::ServerContext* context, const PushRequest* request,
//                     PushResponse* response) override {
//     return rpc::Serve(context, token_, [&]() -> Status { return table_->Push(...); });
//   }
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <utility>

#include "colony/base/status.h"
#include "colony/rpc/grpc_status.h"
#include "colony/rpc/token.h"

namespace colony::rpc {
namespace internal {

// The Status of the exception being handled. REQUIRES: called inside a catch block.
Status CurrentExceptionStatus();

}  // namespace internal

// `body`: a callable returning Status. `token`: the server's token (empty: any caller).
template <typename Body>
grpc::Status Serve(const grpc::ServerContext* context, const std::string& token, Body&& body) {
  Status status = CheckToken(*context, token);
  if (status.ok()) {
    try {
      status = std::forward<Body>(body)();
    } catch (...) {
      status = internal::CurrentExceptionStatus();
    }
  }
  return ToGrpcStatus(status);
}

}  // namespace colony::rpc
