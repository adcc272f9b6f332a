// A client of the standard health service (grpc.health.v1.Health) that every colony server
// runs (server.h). It answers without a token, as Kubernetes probes and grpc_health_probe
// carry none.
//   COLONY_ASSIGN_OR_RETURN(HealthState state, rpc::CheckHealth(channel));
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "colony/base/status.h"

namespace colony::rpc {

enum class HealthState { kUnknown, kServing, kNotServing, kServiceUnknown };

// "SERVING", "NOT_SERVING", ...: the protocol's names.
const char* HealthStateName(HealthState state);

// One Check call for `service` ("": the whole server) within `deadline_ms`. Errors are the
// call's (Unavailable for a server that is down, NotFound for an unknown service).
StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& service = "", int deadline_ms = 5000);

}  // namespace colony::rpc
