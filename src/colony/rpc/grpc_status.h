// Status <-> grpc::Status at the edge of every service: the codes are the same numbers on
// both sides (colony's codes are gRPC's), so the map is one-to-one.
//   return rpc::ToGrpcStatus(table->Push(ids, grads));                  // in a handler
//   return rpc::FromGrpcStatus(stub->Push(&ctx, req, &resp), "parameter server " + address);
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "colony/base/status.h"

namespace colony::rpc {

grpc::Status ToGrpcStatus(const Status& status);

// The same code and message; a non-empty `what` (who was called: "party b at 10.0.0.2:7301")
// is put before the message as "what: message".
Status FromGrpcStatus(const grpc::Status& status, std::string_view what = {});

}  // namespace colony::rpc
