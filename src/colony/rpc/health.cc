#include "colony/rpc/health.h"

#include <chrono>

#include "grpc/health/v1/health.grpc.pb.h"
#include "colony/rpc/grpc_status.h"

namespace colony::rpc {

const char* HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kServing:
      return "SERVING";
    case HealthState::kNotServing:
      return "NOT_SERVING";
    case HealthState::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case HealthState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& service, int deadline_ms) {
  namespace health = ::grpc::health::v1;
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  health::HealthCheckRequest request;
  request.set_service(service);
  health::HealthCheckResponse response;
  COLONY_RETURN_IF_ERROR(FromGrpcStatus(stub->Check(&context, request, &response), "health check"));
  switch (response.status()) {
    case health::HealthCheckResponse::SERVING:
      return HealthState::kServing;
    case health::HealthCheckResponse::NOT_SERVING:
      return HealthState::kNotServing;
    case health::HealthCheckResponse::SERVICE_UNKNOWN:
      return HealthState::kServiceUnknown;
    default:
      return HealthState::kUnknown;
  }
}

}  // namespace colony::rpc
