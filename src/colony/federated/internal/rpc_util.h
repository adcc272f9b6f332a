// gRPC plumbing of the federated parties: status mapping, and interceptors that hand every
// message a party sends to a MessageObserver (so tests can inspect the whole exchange).
// Private to federated.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/vertical.h"

namespace colony::fl::internal {

grpc::Status ToGrpcStatus(const Status& status);
// Adds `what` ("party B at 127.0.0.1:7301") and a hint for Unavailable.
Status FromGrpcStatus(const grpc::Status& status, const std::string& what);

// Counts the bytes of every message sent and, when `observer` is set, reports it.
struct MessageTap {
  MessageTap(std::string sender_name, MessageObserver on_message)
      : sender(std::move(sender_name)), observer(std::move(on_message)) {}
  std::string sender;
  MessageObserver observer;
  std::atomic<int64_t> bytes{0};
  void Record(const std::string& method, const grpc::ByteBuffer& buffer);
};

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> MakeClientTap(
    MessageTap* tap);
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MakeServerTap(
    MessageTap* tap);

// A started server for `service` on `address` (port 0: a free one) with `tap` on every
// message it sends, and its port. Unavailable naming `who` when the address cannot be bound.
struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};
StatusOr<StartedServer> StartServer(const std::string& who, const std::string& address,
                                    grpc::Service* service, MessageTap* tap);

}  // namespace colony::fl::internal
