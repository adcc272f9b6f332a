// Conversions between colony types and the parameter-server RPC messages. Private to ps.
#pragma once

#include "colony/base/status.h"
#include "colony/ps.pb.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps::internal {

rpc::OptimizerConfig ToProto(const OptimizerOptions& o);
OptimizerOptions FromProto(const rpc::OptimizerConfig& o);
rpc::InitializerConfig ToProto(const InitializerOptions& o);
InitializerOptions FromProto(const rpc::InitializerConfig& o);

}  // namespace colony::ps::internal
