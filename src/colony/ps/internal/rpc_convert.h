// Conversions between colony types and the parameter-server RPC messages. Private to ps.
#pragma once

#include <grpcpp/grpcpp.h>

#include "colony/base/status.h"
#include "colony/ps.pb.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps::internal {

// The codes are the same numbers on both sides.
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

rpc::OptimizerConfig ToProto(const OptimizerOptions& o);
OptimizerOptions FromProto(const rpc::OptimizerConfig& o);
rpc::InitializerConfig ToProto(const InitializerOptions& o);
InitializerOptions FromProto(const rpc::InitializerConfig& o);

// The metadata key that carries the shared token ("Bearer <token>").
inline constexpr char kAuthorizationKey[] = "authorization";

}  // namespace colony::ps::internal
